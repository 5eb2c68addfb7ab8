// A continuous prompt while it is being learned: its trainable tensors, and the prompt they
// produce in the form the frozen model consumes. Every method reduces to one of two forms:
//   SoftPrompt  embeddings [N, C] prepended to the input embeddings (prompt tuning, P-tuning)
//   Prefix      keys/values [N, L * 2 * Hkv * D] fed through the model's past input (prefix tuning)
// The output is also exactly what PEFT saves as `prompt_embeddings` (for P-tuning and projected
// prefix tuning the encoder's output, not the encoder), so an artifact never needs the encoder.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "ptune/model/llama.h"

namespace ptune::methods {

class TrainablePrompt {
 public:
  enum class Form { SoftPrompt, Prefix };

  virtual ~TrainablePrompt() = default;
  virtual Form form() const = 0;
  // Leaf float32 tensors that require grad (what the optimizer updates).
  virtual std::vector<torch::Tensor> parameters() const = 0;
  // The prompt computed from the parameters, differentiable. `training` turns dropout on.
  virtual torch::Tensor output(bool training) const = 0;
  // Writes the PEFT artifact directory (adapter_config.json + adapter_model.safetensors).
  virtual void save(const std::string& dir, const LlamaConfig& model,
                    const std::string& base_model) const = 0;
};

}  // namespace ptune::methods
