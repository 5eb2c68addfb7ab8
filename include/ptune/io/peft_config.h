// PEFT prompt-learning adapters: the keys of adapter_config.json every method has, and the
// artifact directory's I/O.
//
// A PEFT artifact directory holds
//   adapter_config.json        asdict(config): indent 2, sorted keys, no trailing newline
//   adapter_model.safetensors  metadata {"format": "pt"}, F32 tensors (prompt_embeddings, ...)
//
// io models only what every prompt-learning method shares (PeftConfig + PromptLearningConfig
// in peft/config.py): peft_type, the base model, the virtual tokens and the model's dimensions.
// Any other key -- a method's own (prompt_tuning_init, encoder_*, prefix_projection, ...), a
// common key we do not model (auto_mapping, modules_to_save, peft_version) or a key of a newer
// PEFT -- is kept verbatim in `keys` and written back, so a config reads and writes unchanged in
// both directions. What peft_type means, which tensors an artifact holds and the method keys'
// checks belong to the methods layer (ptune/methods/peft_schema.h, one schema per method).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ptune/io/safetensors.h"

namespace ptune::peft {

class PeftConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PromptLearningConfig {
  std::string peft_type;  // required, PEFT's spelling ("PROMPT_TUNING"); any non-empty string
  std::optional<std::string> task_type = "CAUSAL_LM";  // SEQ_CLS, SEQ_2_SEQ_LM, CAUSAL_LM, ...
  std::optional<std::string> base_model_name_or_path;  // what the adapter was trained on
  std::optional<std::string> revision;                 // of the base model
  bool inference_mode = true;                          // true in saved artifacts
  int64_t num_virtual_tokens = 0;                      // N; required, > 0
  int64_t token_dim = 0;  // required: hidden size (prefix + GQA: head_dim * num_key_value_heads)
  int64_t num_transformer_submodules = 1;  // required: 1 (decoder-only) or 2 (encoder-decoder)
  int64_t num_attention_heads = 0;         // required (prefix + GQA: num_key_value_heads)
  int64_t num_layers = 0;                  // required: transformer blocks

  // Every other key, as read (a JSON object): written back verbatim.
  nlohmann::json keys = nlohmann::json::object();

  // Checks the common keys; throws PeftConfigError naming the key.
  void validate() const;
};

// Reads adapter_config.json text. Invalid JSON (a key twice in one object included), a missing
// required key or a wrong type is a PeftConfigError naming the key; other keys go to `keys`. The
// result is validated (common keys only).
PromptLearningConfig parse_config(std::string_view json_text);
PromptLearningConfig read_config(const std::string& path);  // errors prefixed with the path
// The JSON PEFT writes: sorted keys, indent 2, non-ASCII escaped, no trailing newline. The
// common keys PEFT writes and we do not model (auto_mapping, modules_to_save) are null unless
// `keys` holds them; a method's own keys are whatever `keys` holds.
std::string to_json(const PromptLearningConfig& config);
void write_config(const std::string& path, const PromptLearningConfig& config);  // atomic

// Typed reads of one of `config.keys`, for the methods' own keys: an absent key gives
// `fallback`; a wrong type is a PeftConfigError naming the key ("key 'encoder_num_layers' must
// be an integer, got a float"). null is accepted only where the result is optional.
int64_t key_int(const PromptLearningConfig& config, const char* key, int64_t fallback);
std::optional<int64_t> key_nullable_int(const PromptLearningConfig& config, const char* key);
bool key_bool(const PromptLearningConfig& config, const char* key, bool fallback);
double key_double(const PromptLearningConfig& config, const char* key, double fallback);
std::optional<std::string> key_string(const PromptLearningConfig& config, const char* key);
// A string that must be one of `choices` (an enum of PEFT's):
//   key 'prompt_tuning_init': unknown value "ZEROS" (expected one of RANDOM, SAMPLE_VOCAB, TEXT)
std::string key_enum(const PromptLearningConfig& config, const char* key,
                     const std::string& fallback, const std::vector<std::string>& choices);
// "key 'K': unknown value \"V\" (expected one of A, B)", the text of key_enum's error.
std::string unknown_value_message(const char* key, const std::string& value,
                                  const std::vector<std::string>& choices);

// What the base model looks like, for filling and checking a config.
struct ModelDims {
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;  // == num_heads without grouped-query attention
  int64_t head_dim = 0;      // 0: hidden_size / num_heads
};
// Sets token_dim, num_layers and num_attention_heads from the model as PEFT's
// _prepare_prompt_learning_config does. `kv_width`: the method's token_dim follows the key/value
// heads (prefix tuning's rule with grouped-query attention: token_dim = head_dim * kv_heads,
// num_attention_heads = kv_heads); otherwise token_dim is the hidden size.
void fill_from_model(PromptLearningConfig& config, const ModelDims& model, bool kv_width);
// Throws PeftConfigError when the config was made for a model of other dimensions.
void check_against_model(const PromptLearningConfig& config, const ModelDims& model, bool kv_width);

// A whole artifact directory.
struct Adapter {
  PromptLearningConfig config;
  safetensors::File weights;
};
// Reads both files; the config's common keys are validated. Which tensors the artifact must
// hold is the method's: see methods::read_artifact.
Adapter load_adapter(const std::string& dir);
// Validates the config, then writes the weights and then the config (a directory whose config
// is present is complete). Checks nothing about the tensors: see methods::write_artifact.
void save_adapter(const std::string& dir, const PromptLearningConfig& config,
                  const std::vector<safetensors::Tensor>& tensors);

}  // namespace ptune::peft
