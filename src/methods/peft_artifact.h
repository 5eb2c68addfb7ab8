// Moving a method's one tensor, `prompt_embeddings`, between libtorch and a PEFT artifact dir.
#pragma once

#include <torch/torch.h>

#include <string>

#include "ptune/io/peft_config.h"
#include "ptune/model/config.h"

namespace ptune::methods {

peft::ModelDims model_dims(const LlamaConfig& model);

// Reads DIR/adapter_config.json + adapter_model.safetensors, checks the method and that the
// artifact fits `model`, and returns `prompt_embeddings` as float32 [rows, cols].
torch::Tensor read_prompt_embeddings(const std::string& dir, peft::PeftType expected,
                                     const LlamaConfig& model);

// The config of a saved artifact before the model's dimensions are filled in.
peft::PromptLearningConfig artifact_config(peft::PeftType type, int64_t n_virtual,
                                           const std::string& base_model);

// Writes a PEFT artifact holding `embeddings` (detached) as `prompt_embeddings`. `config` carries
// the method: peft_type, num_virtual_tokens, base model and the method's own keys; the model's
// dimensions are filled in here.
void write_prompt_embeddings(const std::string& dir, peft::PromptLearningConfig config,
                             const torch::Tensor& embeddings, const LlamaConfig& model);

}  // namespace ptune::methods
