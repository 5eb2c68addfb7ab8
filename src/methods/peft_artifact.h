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

// Writes a PEFT artifact for `type` with N = n_virtual tokens holding `embeddings` (detached).
void write_prompt_embeddings(const std::string& dir, peft::PeftType type, int64_t n_virtual,
                             const torch::Tensor& embeddings, const LlamaConfig& model,
                             const std::string& base_model);

}  // namespace ptune::methods
