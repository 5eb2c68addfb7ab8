// Moving a method's one tensor, `prompt_embeddings`, between libtorch and a PEFT artifact dir,
// on top of the PEFT schemas (ptune/methods/peft_schema.h): reading validates the artifact
// against its method's schema and the model; writing fills the model's dimensions (with the
// schema's key/value-width rule) and checks before anything is written.
#pragma once

#include <torch/torch.h>

#include <string>

#include "ptune/io/peft_config.h"
#include "ptune/model/config.h"

namespace ptune::methods {

peft::ModelDims model_dims(const ModelConfig& model);

// Reads DIR/adapter_config.json + adapter_model.safetensors (read_artifact: the schema's checks),
// checks that it is an `expected_peft_type` artifact ("PROMPT_TUNING") that fits `model`, and
// returns `prompt_embeddings` as float32 [rows, cols].
torch::Tensor read_prompt_embeddings(const std::string& dir, const std::string& expected_peft_type,
                                     const ModelConfig& model);

// The config of a saved artifact before the model's dimensions are filled in: the schema's keys
// at PEFT's defaults (new_peft_config), for the method's write_..._keys to set.
peft::PromptLearningConfig artifact_config(const std::string& peft_type, int64_t n_virtual,
                                           const std::string& base_model);

// Writes a PEFT artifact holding `embeddings` (detached) as `prompt_embeddings`. `config` carries
// the method: peft_type, num_virtual_tokens, base model and the method's own keys; the model's
// dimensions (and the keys that follow them) are filled in here. Creates `dir`.
void write_prompt_embeddings(const std::string& dir, peft::PromptLearningConfig config,
                             const torch::Tensor& embeddings, const ModelConfig& model);

}  // namespace ptune::methods
