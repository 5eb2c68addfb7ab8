// What each PEFT peft_type means: its own keys in adapter_config.json, their checks and the
// tensors its artifacts hold. io (ptune/io/peft_config.h) reads and writes the keys every
// prompt-learning method shares and keeps the rest verbatim; a method's folder registers a
// PeftSchema saying what the rest is (src/methods/<method>/peft_keys.cpp; the lead's
// register.cpp calls register_peft_schema). MULTITASK_PROMPT_TUNING, which has no method folder
// yet, registers with the built-ins (src/methods/peft_multitask_schema.cpp).
//
// The functions below look the schema up by the config's peft_type and throw PeftConfigError
//   key 'peft_type': unknown value "LORA" (expected one of MULTITASK_PROMPT_TUNING, ...)
// for a peft_type no schema has.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "ptune/io/peft_config.h"
#include "ptune/io/safetensors.h"

namespace ptune::methods {

// Tensor names with their shapes, in the order an artifact lists them.
using TensorShapes = std::vector<std::pair<std::string, std::vector<uint64_t>>>;

struct PeftSchema {
  std::string peft_type;  // PEFT's spelling: "PROMPT_TUNING"
  // The method's keys PEFT writes, with PEFT's defaults (mostly null): a new config starts with
  // them and a written config has each of them.
  nlohmann::json defaults = nlohmann::json::object();
  // token_dim follows the key/value heads (prefix tuning with grouped-query attention).
  bool kv_width = false;
  // The method keys' types and cross-field checks (PEFT's __post_init__ and more); throws
  // PeftConfigError naming the key. Runs after the common keys validated. May be empty.
  std::function<void(const peft::PromptLearningConfig&)> validate_keys;
  // After the model's dimensions are filled in: the method keys PEFT derives from them
  // (encoder_hidden_size = token_dim when unset). May be empty.
  std::function<void(peft::PromptLearningConfig&)> fill_keys;
  // The tensors an artifact of this config holds (required).
  std::function<TensorShapes(const peft::PromptLearningConfig&)> expected_tensors;
  // How a tensor's expected shape follows from the config, for the error text (required):
  // "[num_virtual_tokens, num_layers * 2 * token_dim] = [3, 2 * 2 * 16]".
  std::function<std::string(const peft::PromptLearningConfig&, const std::string& tensor)>
      shape_rule;
};

// Throws std::invalid_argument for an empty or taken peft_type or a missing required function.
void register_peft_schema(PeftSchema schema);
// Null when no schema has that peft_type. Makes sure the built-in methods registered first.
const PeftSchema* find_peft_schema(const std::string& peft_type);
// Like find_peft_schema, but throws PeftConfigError listing the registered peft_types.
const PeftSchema& peft_schema(const std::string& peft_type);
// Every registered peft_type, sorted.
std::vector<std::string> registered_peft_types();

// A new config of this peft_type: the common defaults and the schema's keys.
peft::PromptLearningConfig new_peft_config(const std::string& peft_type);
// The common checks, a known peft_type, then the schema's validate_keys.
void check_config(const peft::PromptLearningConfig& config);
// io's fill_from_model / check_against_model with the schema's kv_width, and the keys that
// follow the model (fill_keys).
void fill_from_model(peft::PromptLearningConfig& config, const peft::ModelDims& model);
void check_against_model(const peft::PromptLearningConfig& config, const peft::ModelDims& model);

// The tensors a saved artifact holds for this config, with their shapes.
TensorShapes expected_tensors(const peft::PromptLearningConfig& config);
// Checks one tensor's shape against the config; the error states the expected shape and how it
// follows from the config:
//   PREFIX_TUNING tensor 'prompt_embeddings' has shape [3, 128], expected [...] = [...]
void check_tensor_shape(const peft::PromptLearningConfig& config, const std::string& name,
                        const std::vector<uint64_t>& shape);
// Checks that the file holds exactly the expected tensors, floating point, with the right shapes.
void check_tensors(const peft::PromptLearningConfig& config, const safetensors::File& file);

// A validated artifact directory: io's load_adapter, then check_config (errors prefixed with the
// config's path) and check_tensors (prefixed with the directory).
peft::Adapter read_artifact(const std::string& dir);
// Adds the schema's keys the config lacks (their defaults), runs check_config and
// check_tensors, then io's save_adapter. The directory must exist.
void write_artifact(const std::string& dir, peft::PromptLearningConfig config,
                    const std::vector<safetensors::Tensor>& tensors);

// The soft-prompt layout shared by PROMPT_TUNING, P_TUNING and MULTITASK_PROMPT_TUNING:
// prompt_embeddings [num_virtual_tokens * num_transformer_submodules, token_dim].
// The two fit PeftSchema::expected_tensors and ::shape_rule as they are.
std::vector<uint64_t> soft_prompt_shape(const peft::PromptLearningConfig& config);
TensorShapes soft_prompt_tensors(const peft::PromptLearningConfig& config);
std::string soft_prompt_shape_rule(const peft::PromptLearningConfig& config,
                                   const std::string& tensor = "prompt_embeddings");

// PEFT's _prepare_prompt_learning_config for the methods with an encoder_hidden_size key: an
// unset (null or absent) width is token_dim. Fits PeftSchema::fill_keys.
void fill_encoder_hidden_size(peft::PromptLearningConfig& config);

}  // namespace ptune::methods
