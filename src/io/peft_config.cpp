// adapter_config.json's common keys for PEFT's prompt-learning methods, typed reads of the
// others, and the artifact directory's I/O. See the format notes in include/ptune/io/peft_config.h.
#include "ptune/io/peft_config.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "atomic_file.h"
#include "ptune/util/json.h"
#include "str_format.h"

namespace ptune::peft {

using gguf::detail::str_format;
using json = nlohmann::json;

namespace {

// The keys read into fields; every other key stays in `keys`.
const char* const kFields[] = {"peft_type",
                               "task_type",
                               "base_model_name_or_path",
                               "revision",
                               "inference_mode",
                               "num_virtual_tokens",
                               "token_dim",
                               "num_transformer_submodules",
                               "num_attention_heads",
                               "num_layers"};
// Common keys PEFT 0.21 writes that no field models: null unless `keys` holds them.
const char* const kUnmodelledCommonKeys[] = {"auto_mapping", "modules_to_save"};

bool is_field(const std::string& key) {
  for (const char* f : kFields) {
    if (key == f) return true;
  }
  return false;
}

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

const json* find(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

const json& required(const json& j, const char* key) {
  const json* v = find(j, key);
  if (!v || v->is_null()) throw PeftConfigError(str_format("missing required key '%s'", key));
  return *v;
}

int64_t get_int(const char* key, const json& v) {
  if (!v.is_number_integer()) wrong_type(key, "an integer", v);
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX}) {
    throw PeftConfigError(str_format("key '%s' is out of range", key));
  }
  return v.get<int64_t>();
}

std::string get_string(const char* key, const json& v) {
  if (!v.is_string()) wrong_type(key, "a string", v);
  return v.get<std::string>();
}

std::optional<std::string> get_nullable_string(const char* key, const json& v) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_string()) wrong_type(key, "a string or null", v);
  return v.get<std::string>();
}

bool get_bool(const char* key, const json& v) {
  if (!v.is_boolean()) wrong_type(key, "a boolean", v);
  return v.get<bool>();
}

json nullable(const std::optional<std::string>& s) {
  return s ? json(*s) : json(nullptr);
}

void write_atomic(const std::string& path, const std::string& text) {
  const std::string err = io::write_file_atomically(path, text.data(), text.size());
  if (!err.empty()) throw PeftConfigError(err);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// validate

void PromptLearningConfig::validate() const {
  if (peft_type.empty()) throw PeftConfigError("missing required key 'peft_type'");
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
  if (!keys.is_object()) throw PeftConfigError("the config's other keys must be a JSON object");
  for (const auto& [key, value] : keys.items()) {
    if (is_field(key)) {
      throw PeftConfigError(str_format("key '%s' is a field, not an extra key", key.c_str()));
    }
    // A value json::parse(..., allow_exceptions=false) gave up on; it would dump as garbage.
    if (value.is_discarded()) {
      throw PeftConfigError(str_format("extra key '%s' does not hold valid JSON", key.c_str()));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// read / write

PromptLearningConfig parse_config(std::string_view text) {
  json j;
  try {
    j = util::parse_json_strict(text);
  } catch (const util::JsonSyntaxError& e) {
    throw PeftConfigError(str_format("invalid JSON at byte %zu, %s", e.byte(), e.what()));
  }
  if (!j.is_object()) {
    throw PeftConfigError(str_format("the config must be a JSON object, got %s", json_type(j)));
  }
  PromptLearningConfig c;
  c.peft_type = get_string("peft_type", required(j, "peft_type"));
  if (const json* v = find(j, "task_type")) c.task_type = get_nullable_string("task_type", *v);
  if (const json* v = find(j, "base_model_name_or_path")) {
    c.base_model_name_or_path = get_nullable_string("base_model_name_or_path", *v);
  }
  if (const json* v = find(j, "revision")) c.revision = get_nullable_string("revision", *v);
  if (const json* v = find(j, "inference_mode")) c.inference_mode = get_bool("inference_mode", *v);
  c.num_virtual_tokens = get_int("num_virtual_tokens", required(j, "num_virtual_tokens"));
  c.token_dim = get_int("token_dim", required(j, "token_dim"));
  c.num_transformer_submodules =
      get_int("num_transformer_submodules", required(j, "num_transformer_submodules"));
  c.num_attention_heads = get_int("num_attention_heads", required(j, "num_attention_heads"));
  c.num_layers = get_int("num_layers", required(j, "num_layers"));
  for (const auto& [key, value] : j.items()) {
    if (!is_field(key)) c.keys[key] = value;
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
  json j = c.keys;  // std::map-backed: keys come out sorted, as json.dumps(sort_keys=True)
  for (const char* key : kUnmodelledCommonKeys) {
    if (!j.contains(key)) j[key] = nullptr;
  }
  j["peft_type"] = c.peft_type;
  j["task_type"] = nullable(c.task_type);
  j["base_model_name_or_path"] = nullable(c.base_model_name_or_path);
  j["revision"] = nullable(c.revision);
  j["inference_mode"] = c.inference_mode;
  j["num_virtual_tokens"] = c.num_virtual_tokens;
  j["token_dim"] = c.token_dim;
  j["num_transformer_submodules"] = c.num_transformer_submodules;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_layers"] = c.num_layers;
  return j.dump(2, ' ', /*ensure_ascii=*/true);  // Python's json.dumps escapes non-ASCII
}

void write_config(const std::string& path, const PromptLearningConfig& config) {
  write_atomic(path, to_json(config));
}

// ---------------------------------------------------------------------------------------------
// typed reads of `keys`

int64_t key_int(const PromptLearningConfig& c, const char* key, int64_t fallback) {
  const json* v = find(c.keys, key);
  return v ? get_int(key, *v) : fallback;
}

std::optional<int64_t> key_nullable_int(const PromptLearningConfig& c, const char* key) {
  const json* v = find(c.keys, key);
  if (!v || v->is_null()) return std::nullopt;
  return get_int(key, *v);
}

bool key_bool(const PromptLearningConfig& c, const char* key, bool fallback) {
  const json* v = find(c.keys, key);
  return v ? get_bool(key, *v) : fallback;
}

double key_double(const PromptLearningConfig& c, const char* key, double fallback) {
  const json* v = find(c.keys, key);
  if (!v) return fallback;
  if (!v->is_number()) wrong_type(key, "a number", *v);
  return v->get<double>();
}

std::optional<std::string> key_string(const PromptLearningConfig& c, const char* key) {
  const json* v = find(c.keys, key);
  return v ? get_nullable_string(key, *v) : std::nullopt;
}

std::string unknown_value_message(const char* key, const std::string& value,
                                  const std::vector<std::string>& choices) {
  std::string list;
  for (const auto& s : choices) list += (list.empty() ? "" : ", ") + s;
  return str_format("key '%s': unknown value \"%s\" (expected one of %s)", key, value.c_str(),
                    list.c_str());
}

std::string key_enum(const PromptLearningConfig& c, const char* key, const std::string& fallback,
                     const std::vector<std::string>& choices) {
  const json* v = find(c.keys, key);
  if (!v) return fallback;
  const std::string s = get_string(key, *v);
  for (const auto& choice : choices) {
    if (s == choice) return s;
  }
  throw PeftConfigError(unknown_value_message(key, s, choices));
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

void fill_from_model(PromptLearningConfig& c, const ModelDims& m, bool kv_width) {
  c.num_layers = m.num_layers;
  c.token_dim = m.hidden_size;
  c.num_attention_heads = m.num_heads;
  if (kv_width) {  // the cache holds key/value heads only
    const int64_t kv_heads = m.num_kv_heads > 0 ? m.num_kv_heads : m.num_heads;
    c.token_dim = head_dim_of(m) * kv_heads;
    c.num_attention_heads = kv_heads;
  }
}

void check_against_model(const PromptLearningConfig& c, const ModelDims& m, bool kv_width) {
  PromptLearningConfig want = c;
  fill_from_model(want, m, kv_width);
  auto same = [&](const char* key, int64_t have, int64_t need, const char* why) {
    if (have != need) {
      throw PeftConfigError(str_format("adapter key '%s' is %lld but the model needs %lld (%s)",
                                       key, static_cast<long long>(have),
                                       static_cast<long long>(need), why));
    }
  };
  same("num_layers", c.num_layers, want.num_layers, "its number of layers");
  if (kv_width) {
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
// the artifact directory

Adapter load_adapter(const std::string& dir) {
  Adapter a;
  a.config = read_config(dir + "/adapter_config.json");
  a.weights = safetensors::read_file(dir + "/adapter_model.safetensors");
  return a;
}

void save_adapter(const std::string& dir, const PromptLearningConfig& config,
                  const std::vector<safetensors::Tensor>& tensors) {
  const std::string text = to_json(config);  // validates before anything is written
  // Weights first: a directory whose config is present is complete.
  safetensors::write_file(dir + "/adapter_model.safetensors", tensors);
  write_atomic(dir + "/adapter_config.json", text);
}

}  // namespace ptune::peft
