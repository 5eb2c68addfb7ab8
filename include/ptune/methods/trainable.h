// A continuous prompt: its trainable tensors, and the one thing the frozen model needs from it,
// its keys/values (state()). Every method reduces to that at the model, whatever it learns:
//   prompt tuning, P-tuning  soft-prompt embeddings [N, C] run through the model once
//   prefix tuning            keys/values [N, L * 2 * Hkv * D] used as they are
// so training, evaluation and generation treat every method alike: the prompt's state is the
// `past` every row attends to (exact, by causal attention).
//
// output() is exactly what PEFT saves as `prompt_embeddings` (for P-tuning and projected prefix
// tuning the encoder's output, not the encoder), so an artifact never needs the encoder.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "ptune/model/model.h"

namespace ptune::methods {

class TrainablePrompt {
 public:
  virtual ~TrainablePrompt() = default;
  // Leaf float32 tensors that require grad (what the optimizer updates); empty when the prompt
  // was loaded for inference.
  virtual std::vector<torch::Tensor> parameters() const = 0;
  // The prompt computed from the parameters, differentiable. `training` turns dropout on.
  virtual torch::Tensor output(bool training) const = 0;
  // Keys/values of the virtual tokens for one row, [1, Hkv, N, D] per layer, differentiable
  // with respect to parameters() (expand_past gives them to a batch).
  virtual PastKV state(const Model& model, bool training) const = 0;
  virtual int64_t n_virtual() const = 0;
  // Writes the artifact folder (PEFT's adapter_config.json + adapter_model.safetensors).
  virtual void save(const std::string& dir, const ModelConfig& model,
                    const std::string& base_model) const = 0;
};

// The keys/values of soft-prompt embeddings [N, C] at the start of a sequence: one forward of
// the frozen model, differentiable with respect to the embeddings (under InferenceMode or
// NoGradGuard it just computes).
PastKV soft_prompt_state(const Model& model, const torch::Tensor& embeddings);

}  // namespace ptune::methods
