// PEFT prompt-learning adapters: adapter_config.json and the tensors of adapter_model.safetensors.
//
// A PEFT artifact directory holds
//   adapter_config.json        asdict(config): indent 2, sorted keys, no trailing newline
//   adapter_model.safetensors  metadata {"format": "pt"}, F32 tensors:
//     prompt_embeddings  the prompt as the model consumes it (for P-tuning and projected prefix
//                        tuning the encoder OUTPUT, not the encoder):
//       PROMPT_TUNING, P_TUNING, MULTITASK_PROMPT_TUNING: [N * num_transformer_submodules, token_dim]
//       PREFIX_TUNING: [N, num_layers * 2 * token_dim]; per virtual token the row is
//         [L0_K, L0_V, L1_K, L1_V, ...], each block num_attention_heads * head_dim wide. With
//         grouped-query attention PEFT stores token_dim = head_dim * num_key_value_heads and
//         num_attention_heads = num_key_value_heads (see fill_from_model).
//     MULTITASK_PROMPT_TUNING also: prefix_task_cols [num_tasks, N, num_ranks],
//                                   prefix_task_rows [num_tasks, num_ranks, token_dim]
// (N = num_virtual_tokens.)
//
// Field names, defaults and enum spellings are PEFT's (peft/tuners/*/config.py), so a config
// reads and writes unchanged in both directions. Keys we do not model (auto_mapping,
// modules_to_save, peft_version, keys of newer PEFT versions, ...) are kept verbatim in `extra`
// and written back.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ptune/io/safetensors.h"

namespace ptune::peft {

class PeftConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class PeftType { PROMPT_TUNING, P_TUNING, PREFIX_TUNING, MULTITASK_PROMPT_TUNING };
// How prompt tuning initialises the prompt. The last three are MULTITASK_PROMPT_TUNING's.
enum class PromptTuningInit {
  RANDOM,
  SAMPLE_VOCAB,
  TEXT,
  AVERAGE_SOURCE_TASKS,
  EXACT_SOURCE_TASK,
  ONLY_SOURCE_SHARED,
};
// P-tuning's prompt encoder.
enum class EncoderType { MLP, LSTM };

const char* peft_type_name(PeftType t);  // "PROMPT_TUNING"
const char* prompt_tuning_init_name(PromptTuningInit t);
const char* encoder_type_name(EncoderType t);

struct PromptLearningConfig {
  // --- every method (PeftConfig + PromptLearningConfig) ---
  PeftType peft_type = PeftType::PROMPT_TUNING;      // required
  std::optional<std::string> task_type = "CAUSAL_LM";  // SEQ_CLS, SEQ_2_SEQ_LM, CAUSAL_LM, ...
  std::optional<std::string> base_model_name_or_path;  // what the adapter was trained on
  std::optional<std::string> revision;                 // of the base model
  bool inference_mode = true;                          // true in saved artifacts
  int64_t num_virtual_tokens = 0;                      // N; required, > 0
  int64_t token_dim = 0;  // required: hidden size (prefix + GQA: head_dim * num_key_value_heads)
  int64_t num_transformer_submodules = 1;  // required: 1 (decoder-only) or 2 (encoder-decoder)
  int64_t num_attention_heads = 0;         // required (prefix + GQA: num_key_value_heads)
  int64_t num_layers = 0;                  // required: transformer blocks

  // --- PROMPT_TUNING and MULTITASK_PROMPT_TUNING ---
  PromptTuningInit prompt_tuning_init = PromptTuningInit::RANDOM;
  std::optional<std::string> prompt_tuning_init_text;  // required when init is TEXT
  std::optional<std::string> tokenizer_name_or_path;   // required when init is TEXT

  // --- MULTITASK_PROMPT_TUNING ---
  std::optional<std::string> prompt_tuning_init_state_dict_path;  // source-task checkpoint
  int64_t prompt_tuning_init_task = 0;  // task id for EXACT_SOURCE_TASK
  int64_t num_ranks = 1;                // rank of the task-specific factors
  int64_t num_tasks = 1;

  // --- P_TUNING (encoder_hidden_size also for projected PREFIX_TUNING) ---
  EncoderType encoder_reparameterization_type = EncoderType::MLP;
  std::optional<int64_t> encoder_hidden_size;  // PEFT fills token_dim when unset
  int64_t encoder_num_layers = 2;              // LSTM layers (the MLP always has 2)
  double encoder_dropout = 0.0;

  // --- PREFIX_TUNING ---
  bool prefix_projection = false;  // train through an MLP; the saved tensor is its output

  // Keys not modelled above, as JSON text by key ("null", "\"0.21.2\"", ...): written back as is.
  std::map<std::string, std::string> extra;

  // Cross-field checks (PEFT's __post_init__ and more); throws PeftConfigError naming the key.
  void validate() const;
};

// Reads adapter_config.json text. A missing required key, a wrong type or an unknown enum value
// is a PeftConfigError naming the key; unknown keys go to `extra`. The result is validated.
PromptLearningConfig parse_config(std::string_view json_text);
PromptLearningConfig read_config(const std::string& path);  // errors prefixed with the path
// The JSON PEFT writes for this config: the method's keys, sorted, indent 2, non-ASCII escaped,
// no trailing newline. PEFT keys with no field here (auto_mapping, modules_to_save, ...) default
// to null unless `extra` holds them.
std::string to_json(const PromptLearningConfig& config);
void write_config(const std::string& path, const PromptLearningConfig& config);  // atomic

// What the base model looks like, for filling and checking a config.
struct ModelDims {
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;  // == num_heads without grouped-query attention
  int64_t head_dim = 0;      // 0: hidden_size / num_heads
};
// Sets token_dim, num_layers, num_attention_heads (and encoder_hidden_size when unset) from the
// model as PEFT's _prepare_prompt_learning_config does, including the prefix-tuning GQA rule.
void fill_from_model(PromptLearningConfig& config, const ModelDims& model);
// Throws PeftConfigError when the config was made for a model of other dimensions.
void check_against_model(const PromptLearningConfig& config, const ModelDims& model);

// The tensors a saved artifact holds for this config, with their shapes.
std::vector<std::pair<std::string, std::vector<uint64_t>>> expected_tensors(
    const PromptLearningConfig& config);
// Checks one tensor's shape against the config (prompt_embeddings or an MPT factor); the error
// states the expected shape and how it follows from the config.
void check_tensor_shape(const PromptLearningConfig& config, const std::string& name,
                        const std::vector<uint64_t>& shape);
// Checks that the file holds exactly the expected tensors, floating point, with the right shapes.
void check_tensors(const PromptLearningConfig& config, const safetensors::File& file);

// A whole artifact directory.
struct Adapter {
  PromptLearningConfig config;
  safetensors::File weights;
};
Adapter load_adapter(const std::string& dir);  // reads both files and runs check_tensors
void save_adapter(const std::string& dir, const PromptLearningConfig& config,
                  const std::vector<safetensors::Tensor>& tensors);  // checks, then writes both

}  // namespace ptune::peft
