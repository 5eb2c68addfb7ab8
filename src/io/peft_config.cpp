// adapter_config.json for PEFT's prompt-learning methods, and the shape rules tying it to the
// tensors of adapter_model.safetensors. See the format notes in include/ptune/io/peft_config.h.
#include "ptune/io/peft_config.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "atomic_file.h"
#include "str_format.h"

namespace ptune::peft {

using gguf::detail::str_format;
using json = nlohmann::json;

namespace {

// ---------------------------------------------------------------------------------------------
// Enum spellings (PEFT's enum values)

template <typename E>
struct EnumName {
  E value;
  const char* name;
};

constexpr EnumName<PeftType> kPeftTypes[] = {
    {PeftType::PROMPT_TUNING, "PROMPT_TUNING"},
    {PeftType::P_TUNING, "P_TUNING"},
    {PeftType::PREFIX_TUNING, "PREFIX_TUNING"},
    {PeftType::MULTITASK_PROMPT_TUNING, "MULTITASK_PROMPT_TUNING"},
};
constexpr EnumName<PromptTuningInit> kInits[] = {
    {PromptTuningInit::RANDOM, "RANDOM"},
    {PromptTuningInit::SAMPLE_VOCAB, "SAMPLE_VOCAB"},
    {PromptTuningInit::TEXT, "TEXT"},
    {PromptTuningInit::AVERAGE_SOURCE_TASKS, "AVERAGE_SOURCE_TASKS"},
    {PromptTuningInit::EXACT_SOURCE_TASK, "EXACT_SOURCE_TASK"},
    {PromptTuningInit::ONLY_SOURCE_SHARED, "ONLY_SOURCE_SHARED"},
};
constexpr EnumName<EncoderType> kEncoders[] = {
    {EncoderType::MLP, "MLP"},
    {EncoderType::LSTM, "LSTM"},
};

template <typename E, size_t N>
const char* enum_name(const EnumName<E> (&table)[N], E v) {
  for (const auto& e : table) {
    if (e.value == v) return e.name;
  }
  return "?";
}

template <typename E, size_t N>
std::string enum_choices(const EnumName<E> (&table)[N]) {
  std::string s;
  for (const auto& e : table) s += (s.empty() ? "" : ", ") + std::string(e.name);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Keys

// Keys of every prompt-learning config, then the method's own (PEFT 0.21 dataclass fields).
// The modelled ones are read into fields; the others default to null when writing.
const std::vector<const char*> kCommonKeys = {"auto_mapping",
                                              "base_model_name_or_path",
                                              "inference_mode",
                                              "modules_to_save",
                                              "num_attention_heads",
                                              "num_layers",
                                              "num_transformer_submodules",
                                              "num_virtual_tokens",
                                              "peft_type",
                                              "revision",
                                              "task_type",
                                              "token_dim"};
const std::vector<const char*> kPromptTuningKeys = {"prompt_tuning_init", "prompt_tuning_init_text",
                                                    "tokenizer_kwargs", "tokenizer_name_or_path"};
const std::vector<const char*> kMultitaskKeys = {
    "num_ranks", "num_tasks", "prompt_tuning_init_state_dict_path", "prompt_tuning_init_task"};
const std::vector<const char*> kPTuningKeys = {"encoder_dropout", "encoder_hidden_size",
                                               "encoder_num_layers",
                                               "encoder_reparameterization_type"};
const std::vector<const char*> kPrefixKeys = {"encoder_hidden_size", "init_weights",
                                              "prefix_projection"};

std::vector<const char*> method_keys(PeftType t) {
  std::vector<const char*> keys = kCommonKeys;
  auto add = [&](const std::vector<const char*>& more) {
    keys.insert(keys.end(), more.begin(), more.end());
  };
  switch (t) {
    case PeftType::PROMPT_TUNING:
      add(kPromptTuningKeys);
      break;
    case PeftType::MULTITASK_PROMPT_TUNING:
      add(kPromptTuningKeys);
      add(kMultitaskKeys);
      break;
    case PeftType::P_TUNING:
      add(kPTuningKeys);
      break;
    case PeftType::PREFIX_TUNING:
      add(kPrefixKeys);
      break;
  }
  return keys;
}

// Keys read into fields (any method); everything else goes to `extra`.
const std::set<std::string> kModelled = {"peft_type",
                                         "task_type",
                                         "base_model_name_or_path",
                                         "revision",
                                         "inference_mode",
                                         "num_virtual_tokens",
                                         "token_dim",
                                         "num_transformer_submodules",
                                         "num_attention_heads",
                                         "num_layers",
                                         "prompt_tuning_init",
                                         "prompt_tuning_init_text",
                                         "tokenizer_name_or_path",
                                         "prompt_tuning_init_state_dict_path",
                                         "prompt_tuning_init_task",
                                         "num_ranks",
                                         "num_tasks",
                                         "encoder_reparameterization_type",
                                         "encoder_hidden_size",
                                         "encoder_num_layers",
                                         "encoder_dropout",
                                         "prefix_projection"};

// ---------------------------------------------------------------------------------------------
// Typed reads: each names the key in its error.

const char* json_type(const json& j) {
  return j.is_number_float()     ? "a float"
         : j.is_number_integer() ? "an integer"
         : j.is_string()         ? "a string"
         : j.is_boolean()        ? "a boolean"
         : j.is_null()           ? "null"
         : j.is_array()          ? "an array"
                                 : "an object";
}

[[noreturn]] void wrong_type(const char* key, const char* want, const json& got) {
  throw PeftConfigError(str_format("key '%s' must be %s, got %s", key, want, json_type(got)));
}

class Reader {
 public:
  explicit Reader(const json& j) : j_(j) {}

  const json* find(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  const json& required(const char* key) const {
    const json* v = find(key);
    if (!v || v->is_null()) {
      throw PeftConfigError(str_format("missing required key '%s'", key));
    }
    return *v;
  }

  int64_t get_int(const char* key, const json& v) const {
    if (!v.is_number_integer()) wrong_type(key, "an integer", v);
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX}) {
      throw PeftConfigError(str_format("key '%s' is out of range", key));
    }
    return v.get<int64_t>();
  }
  int64_t req_int(const char* key) const { return get_int(key, required(key)); }
  void opt_int(const char* key, int64_t* out) const {
    if (const json* v = find(key)) *out = get_int(key, *v);
  }
  void opt_nullable_int(const char* key, std::optional<int64_t>* out) const {
    const json* v = find(key);
    if (!v) return;
    *out = v->is_null() ? std::nullopt : std::optional<int64_t>(get_int(key, *v));
  }
  void opt_bool(const char* key, bool* out) const {
    const json* v = find(key);
    if (!v) return;
    if (!v->is_boolean()) wrong_type(key, "a boolean", *v);
    *out = v->get<bool>();
  }
  void opt_double(const char* key, double* out) const {
    const json* v = find(key);
    if (!v) return;
    if (!v->is_number()) wrong_type(key, "a number", *v);
    *out = v->get<double>();
  }
  void opt_string(const char* key, std::optional<std::string>* out) const {
    const json* v = find(key);
    if (!v) return;
    if (v->is_null()) {
      *out = std::nullopt;
    } else if (v->is_string()) {
      *out = v->get<std::string>();
    } else {
      wrong_type(key, "a string or null", *v);
    }
  }
  template <typename E, size_t N>
  E get_enum(const char* key, const json& v, const EnumName<E> (&table)[N]) const {
    if (!v.is_string()) wrong_type(key, "a string", v);
    const auto& s = v.get_ref<const std::string&>();
    for (const auto& e : table) {
      if (s == e.name) return e.value;
    }
    throw PeftConfigError(str_format("key '%s': unknown value \"%s\" (expected one of %s)", key,
                                     s.c_str(), enum_choices(table).c_str()));
  }
  template <typename E, size_t N>
  void opt_enum(const char* key, E* out, const EnumName<E> (&table)[N]) const {
    if (const json* v = find(key)) *out = get_enum(key, *v, table);
  }

 private:
  const json& j_;
};

json nullable(const std::optional<std::string>& s) {
  return s ? json(*s) : json(nullptr);
}

std::string shape_str(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += (i ? ", " : "") + std::to_string(shape[i]);
  }
  return s + "]";
}

uint64_t u(int64_t v) {
  return static_cast<uint64_t>(v);
}

// How a tensor's expected shape follows from the config, for error messages.
std::string shape_rule(const PromptLearningConfig& c, const std::string& name) {
  if (name == "prefix_task_cols") {
    return str_format("[num_tasks, num_virtual_tokens, num_ranks] = [%lld, %lld, %lld]",
                      static_cast<long long>(c.num_tasks),
                      static_cast<long long>(c.num_virtual_tokens),
                      static_cast<long long>(c.num_ranks));
  }
  if (name == "prefix_task_rows") {
    return str_format("[num_tasks, num_ranks, token_dim] = [%lld, %lld, %lld]",
                      static_cast<long long>(c.num_tasks), static_cast<long long>(c.num_ranks),
                      static_cast<long long>(c.token_dim));
  }
  if (c.peft_type == PeftType::PREFIX_TUNING) {
    return str_format("[num_virtual_tokens, num_layers * 2 * token_dim] = [%lld, %lld * 2 * %lld]",
                      static_cast<long long>(c.num_virtual_tokens),
                      static_cast<long long>(c.num_layers), static_cast<long long>(c.token_dim));
  }
  return str_format(
      "[num_virtual_tokens * num_transformer_submodules, token_dim] = [%lld * %lld, %lld]",
      static_cast<long long>(c.num_virtual_tokens),
      static_cast<long long>(c.num_transformer_submodules), static_cast<long long>(c.token_dim));
}

void write_atomic(const std::string& path, const std::string& text) {
  const std::string err = io::write_file_atomically(path, text.data(), text.size());
  if (!err.empty()) throw PeftConfigError(err);
}

}  // namespace

const char* peft_type_name(PeftType t) {
  return enum_name(kPeftTypes, t);
}
const char* prompt_tuning_init_name(PromptTuningInit t) {
  return enum_name(kInits, t);
}
const char* encoder_type_name(EncoderType t) {
  return enum_name(kEncoders, t);
}

// ---------------------------------------------------------------------------------------------
// validate

void PromptLearningConfig::validate() const {
  auto positive = [](const char* key, int64_t v) {
    if (v <= 0) {
      throw PeftConfigError(
          str_format("key '%s' must be positive, got %lld", key, static_cast<long long>(v)));
    }
  };
  positive("num_virtual_tokens", num_virtual_tokens);
  positive("token_dim", token_dim);
  positive("num_attention_heads", num_attention_heads);
  positive("num_layers", num_layers);
  if (num_transformer_submodules != 1 && num_transformer_submodules != 2) {
    throw PeftConfigError(str_format("key 'num_transformer_submodules' must be 1 or 2, got %lld",
                                     static_cast<long long>(num_transformer_submodules)));
  }
  const bool prompt_tuning =
      peft_type == PeftType::PROMPT_TUNING || peft_type == PeftType::MULTITASK_PROMPT_TUNING;
  if (prompt_tuning && prompt_tuning_init == PromptTuningInit::TEXT) {
    if (!prompt_tuning_init_text || prompt_tuning_init_text->empty()) {
      throw PeftConfigError(
          "prompt_tuning_init is TEXT but key 'prompt_tuning_init_text' is not set");
    }
    if (!tokenizer_name_or_path) {
      throw PeftConfigError(
          "prompt_tuning_init is TEXT but key 'tokenizer_name_or_path' is not set");
    }
  }
  if (peft_type == PeftType::PROMPT_TUNING && prompt_tuning_init != PromptTuningInit::RANDOM &&
      prompt_tuning_init != PromptTuningInit::SAMPLE_VOCAB &&
      prompt_tuning_init != PromptTuningInit::TEXT) {
    throw PeftConfigError(
        str_format("key 'prompt_tuning_init': %s is only for "
                   "MULTITASK_PROMPT_TUNING",
                   prompt_tuning_init_name(prompt_tuning_init)));
  }
  if (peft_type == PeftType::MULTITASK_PROMPT_TUNING) {
    positive("num_ranks", num_ranks);
    positive("num_tasks", num_tasks);
    if (prompt_tuning_init_task < 0 || prompt_tuning_init_task >= num_tasks) {
      throw PeftConfigError(str_format(
          "key 'prompt_tuning_init_task' %lld is not a task id below "
          "num_tasks %lld",
          static_cast<long long>(prompt_tuning_init_task), static_cast<long long>(num_tasks)));
    }
  }
  if (peft_type == PeftType::P_TUNING) {
    positive("encoder_num_layers", encoder_num_layers);
    if (!(encoder_dropout >= 0.0 && encoder_dropout < 1.0)) {
      throw PeftConfigError(
          str_format("key 'encoder_dropout' must be in [0, 1), got %g", encoder_dropout));
    }
  }
  if ((peft_type == PeftType::P_TUNING || peft_type == PeftType::PREFIX_TUNING) &&
      encoder_hidden_size) {
    positive("encoder_hidden_size", *encoder_hidden_size);
  }
  if (peft_type == PeftType::PREFIX_TUNING && token_dim % num_attention_heads != 0) {
    throw PeftConfigError(
        str_format("prefix tuning: token_dim %lld is not a multiple of num_attention_heads %lld",
                   static_cast<long long>(token_dim), static_cast<long long>(num_attention_heads)));
  }
  for (const auto& [key, text] : extra) {
    if (kModelled.count(key)) {
      throw PeftConfigError(str_format("key '%s' is a field, not an extra key", key.c_str()));
    }
    if (!json::accept(text)) {
      throw PeftConfigError(str_format("extra key '%s' does not hold valid JSON", key.c_str()));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// read / write

PromptLearningConfig parse_config(std::string_view text) {
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    throw PeftConfigError(str_format("invalid JSON at byte %zu: %s",
                                     e.byte > 0 ? static_cast<size_t>(e.byte - 1) : size_t{0},
                                     e.what()));
  }
  if (!j.is_object()) {
    throw PeftConfigError(str_format("the config must be a JSON object, got %s", json_type(j)));
  }
  const Reader r(j);
  PromptLearningConfig c;
  c.peft_type = r.get_enum("peft_type", r.required("peft_type"), kPeftTypes);
  r.opt_string("task_type", &c.task_type);
  r.opt_string("base_model_name_or_path", &c.base_model_name_or_path);
  r.opt_string("revision", &c.revision);
  r.opt_bool("inference_mode", &c.inference_mode);
  c.num_virtual_tokens = r.req_int("num_virtual_tokens");
  c.token_dim = r.req_int("token_dim");
  c.num_transformer_submodules = r.req_int("num_transformer_submodules");
  c.num_attention_heads = r.req_int("num_attention_heads");
  c.num_layers = r.req_int("num_layers");

  r.opt_enum("prompt_tuning_init", &c.prompt_tuning_init, kInits);
  r.opt_string("prompt_tuning_init_text", &c.prompt_tuning_init_text);
  r.opt_string("tokenizer_name_or_path", &c.tokenizer_name_or_path);
  r.opt_string("prompt_tuning_init_state_dict_path", &c.prompt_tuning_init_state_dict_path);
  r.opt_int("prompt_tuning_init_task", &c.prompt_tuning_init_task);
  r.opt_int("num_ranks", &c.num_ranks);
  r.opt_int("num_tasks", &c.num_tasks);

  r.opt_enum("encoder_reparameterization_type", &c.encoder_reparameterization_type, kEncoders);
  r.opt_nullable_int("encoder_hidden_size", &c.encoder_hidden_size);
  r.opt_int("encoder_num_layers", &c.encoder_num_layers);
  r.opt_double("encoder_dropout", &c.encoder_dropout);
  r.opt_bool("prefix_projection", &c.prefix_projection);

  for (const auto& [key, value] : j.items()) {
    if (!kModelled.count(key)) c.extra.emplace(key, value.dump());
  }
  c.validate();
  return c;
}

PromptLearningConfig read_config(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    throw PeftConfigError(str_format("%s: cannot open: %s", path.c_str(), std::strerror(errno)));
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  try {
    return parse_config(ss.str());
  } catch (const PeftConfigError& e) {
    throw PeftConfigError(path + ": " + e.what());
  }
}

std::string to_json(const PromptLearningConfig& c) {
  c.validate();
  json j = json::object();  // std::map-backed: keys come out sorted, as json.dumps(sort_keys)
  for (const char* key : method_keys(c.peft_type)) j[key] = nullptr;
  j["peft_type"] = peft_type_name(c.peft_type);
  j["task_type"] = nullable(c.task_type);
  j["base_model_name_or_path"] = nullable(c.base_model_name_or_path);
  j["revision"] = nullable(c.revision);
  j["inference_mode"] = c.inference_mode;
  j["num_virtual_tokens"] = c.num_virtual_tokens;
  j["token_dim"] = c.token_dim;
  j["num_transformer_submodules"] = c.num_transformer_submodules;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_layers"] = c.num_layers;
  switch (c.peft_type) {
    case PeftType::MULTITASK_PROMPT_TUNING:
      j["prompt_tuning_init_state_dict_path"] = nullable(c.prompt_tuning_init_state_dict_path);
      j["prompt_tuning_init_task"] = c.prompt_tuning_init_task;
      j["num_ranks"] = c.num_ranks;
      j["num_tasks"] = c.num_tasks;
      [[fallthrough]];
    case PeftType::PROMPT_TUNING:
      j["prompt_tuning_init"] = prompt_tuning_init_name(c.prompt_tuning_init);
      j["prompt_tuning_init_text"] = nullable(c.prompt_tuning_init_text);
      j["tokenizer_name_or_path"] = nullable(c.tokenizer_name_or_path);
      break;
    case PeftType::P_TUNING:
      j["encoder_reparameterization_type"] = encoder_type_name(c.encoder_reparameterization_type);
      j["encoder_num_layers"] = c.encoder_num_layers;
      j["encoder_dropout"] = c.encoder_dropout;
      j["encoder_hidden_size"] = c.encoder_hidden_size ? json(*c.encoder_hidden_size) : json();
      break;
    case PeftType::PREFIX_TUNING:
      j["prefix_projection"] = c.prefix_projection;
      j["encoder_hidden_size"] = c.encoder_hidden_size ? json(*c.encoder_hidden_size) : json();
      break;
  }
  for (const auto& [key, text] : c.extra) j[key] = json::parse(text);
  return j.dump(2, ' ', /*ensure_ascii=*/true);  // Python's json.dumps escapes non-ASCII
}

void write_config(const std::string& path, const PromptLearningConfig& config) {
  write_atomic(path, to_json(config));
}

// ---------------------------------------------------------------------------------------------
// model dims

namespace {
int64_t head_dim_of(const ModelDims& m) {
  if (m.head_dim > 0) return m.head_dim;
  if (m.num_heads <= 0 || m.hidden_size % m.num_heads != 0) {
    throw PeftConfigError(str_format("model hidden_size %lld is not a multiple of num_heads %lld",
                                     static_cast<long long>(m.hidden_size),
                                     static_cast<long long>(m.num_heads)));
  }
  return m.hidden_size / m.num_heads;
}
}  // namespace

void fill_from_model(PromptLearningConfig& c, const ModelDims& m) {
  c.num_layers = m.num_layers;
  c.token_dim = m.hidden_size;
  c.num_attention_heads = m.num_heads;
  if (c.peft_type == PeftType::PREFIX_TUNING) {  // the cache holds key/value heads only
    const int64_t kv_heads = m.num_kv_heads > 0 ? m.num_kv_heads : m.num_heads;
    c.token_dim = head_dim_of(m) * kv_heads;
    c.num_attention_heads = kv_heads;
  }
  if (!c.encoder_hidden_size) c.encoder_hidden_size = c.token_dim;
}

void check_against_model(const PromptLearningConfig& c, const ModelDims& m) {
  PromptLearningConfig want = c;
  fill_from_model(want, m);
  auto same = [&](const char* key, int64_t have, int64_t need, const char* why) {
    if (have != need) {
      throw PeftConfigError(str_format("adapter key '%s' is %lld but the model needs %lld (%s)",
                                       key, static_cast<long long>(have),
                                       static_cast<long long>(need), why));
    }
  };
  same("num_layers", c.num_layers, want.num_layers, "its number of layers");
  if (c.peft_type == PeftType::PREFIX_TUNING) {
    const std::string why =
        str_format("head_dim %lld * %lld key/value heads", static_cast<long long>(head_dim_of(m)),
                   static_cast<long long>(want.num_attention_heads));
    same("token_dim", c.token_dim, want.token_dim, why.c_str());
    same("num_attention_heads", c.num_attention_heads, want.num_attention_heads,
         "its key/value heads");
  } else {
    same("token_dim", c.token_dim, want.token_dim, "its hidden size");
  }
}

// ---------------------------------------------------------------------------------------------
// tensors

std::vector<std::pair<std::string, std::vector<uint64_t>>> expected_tensors(
    const PromptLearningConfig& c) {
  std::vector<std::pair<std::string, std::vector<uint64_t>>> out;
  if (c.peft_type == PeftType::PREFIX_TUNING) {
    out.push_back(
        {"prompt_embeddings", {u(c.num_virtual_tokens), u(c.num_layers) * 2 * u(c.token_dim)}});
  } else {
    out.push_back({"prompt_embeddings",
                   {u(c.num_virtual_tokens) * u(c.num_transformer_submodules), u(c.token_dim)}});
  }
  if (c.peft_type == PeftType::MULTITASK_PROMPT_TUNING) {
    out.push_back({"prefix_task_cols", {u(c.num_tasks), u(c.num_virtual_tokens), u(c.num_ranks)}});
    out.push_back({"prefix_task_rows", {u(c.num_tasks), u(c.num_ranks), u(c.token_dim)}});
  }
  return out;
}

void check_tensor_shape(const PromptLearningConfig& c, const std::string& name,
                        const std::vector<uint64_t>& shape) {
  for (const auto& [want_name, want] : expected_tensors(c)) {
    if (want_name != name) continue;
    if (shape != want) {
      throw PeftConfigError(str_format("%s tensor '%s' has shape %s, expected %s",
                                       peft_type_name(c.peft_type), name.c_str(),
                                       shape_str(shape).c_str(), shape_rule(c, name).c_str()));
    }
    return;
  }
  throw PeftConfigError(
      str_format("%s adapters hold no tensor '%s'", peft_type_name(c.peft_type), name.c_str()));
}

void check_tensors(const PromptLearningConfig& c, const safetensors::File& file) {
  const auto want = expected_tensors(c);
  for (const auto& t : file.tensors) check_tensor_shape(c, t.name, t.shape);
  for (const auto& [name, shape] : want) {
    const safetensors::Tensor* t = file.find(name);
    if (!t) {
      throw PeftConfigError(
          str_format("%s adapter has no tensor '%s'", peft_type_name(c.peft_type), name.c_str()));
    }
    using safetensors::Dtype;
    if (t->dtype != Dtype::F32 && t->dtype != Dtype::F16 && t->dtype != Dtype::BF16 &&
        t->dtype != Dtype::F64) {
      throw PeftConfigError(str_format("tensor '%s' has dtype %s, expected a float type",
                                       name.c_str(), safetensors::dtype_name(t->dtype)));
    }
  }
}

Adapter load_adapter(const std::string& dir) {
  Adapter a;
  a.config = read_config(dir + "/adapter_config.json");
  a.weights = safetensors::read_file(dir + "/adapter_model.safetensors");
  try {
    check_tensors(a.config, a.weights);
  } catch (const PeftConfigError& e) {
    throw PeftConfigError(dir + ": " + e.what());
  }
  return a;
}

void save_adapter(const std::string& dir, const PromptLearningConfig& config,
                  const std::vector<safetensors::Tensor>& tensors) {
  safetensors::File f;
  f.tensors = tensors;
  check_tensors(config, f);
  // Weights first: a directory whose config is present is complete.
  safetensors::write_file(dir + "/adapter_model.safetensors", tensors);
  write_config(dir + "/adapter_config.json", config);
}

}  // namespace ptune::peft
