// Prefix tuning (Li & Liang 2021): per-layer key/value prefixes of N virtual tokens, fed through
// the model's past-key-value input. Sized by the model's key/value heads, so grouped-query
// attention is right. Artifacts use PEFT's format: `prompt_embeddings` [N, L * 2 * Hkv * D], each
// row laid out [L0 keys, L0 values, L1 keys, ...], each block Hkv * D wide (past_from_flat).
// Registered as "prefix-tuning".
#pragma once

#include <torch/torch.h>

#include <string>

#include "ptune/methods/registry.h"
#include "ptune/methods/trainable.h"
#include "ptune/model/model.h"

namespace ptune::methods {

struct PrefixTuningConfig : MethodConfig {
  int64_t virtual_tokens = 20;
  // Li & Liang's reparameterisation (PEFT's prefix_projection): learn Embedding(N, Hkv * D) ->
  // Linear(Hkv * D, H) Tanh Linear(H, L * 2 * Hkv * D) instead of the prefix itself. Their
  // finding: direct optimisation is unstable for some tasks; the MLP smooths it.
  bool projection = false;
  int64_t hidden_size = 0;  // H; 0 = PEFT's default, Hkv * D

  void describe(ConfigFields& fields) override;
  void validate() const override;
  void validate_for(const ModelConfig& model) const override;
  // 0.001 already diverged with the projection in our runs; 0.03 is PEFT's docs' value.
  double default_lr() const override { return projection ? 3e-4 : 3e-2; }
};

// Prefix tuning, trained or loaded. Both trained forms start from the keys/values the frozen
// model computes for N sampled vocabulary tokens (Li & Liang: initialising with real activations
// matters): without projection the prefix is that tensor; with projection the embedding and
// first layer keep PyTorch's default initialisation and the last layer is solved so that the
// encoder's first output is that tensor (exact while N <= H + 1).
class PrefixEncoder : public TrainablePrompt {
 public:
  // Seeded. Throws std::invalid_argument for bad sizes.
  PrefixEncoder(const PrefixTuningConfig& config, const Model& model, uint64_t seed);
  // A fixed prefix [N, L * 2 * Hkv * D] (a loaded artifact); nothing to train.
  PrefixEncoder(torch::Tensor prefix, const ModelConfig& model);

  std::vector<torch::Tensor> parameters() const override;
  torch::Tensor output(bool training) const override;  // [N, L * 2 * Hkv * D]
  PastKV state(const Model& model, bool training) const override;
  int64_t n_virtual() const override { return config_.virtual_tokens; }
  void save(const std::string& dir, const ModelConfig& model,
            const std::string& base_model) const override;

 private:
  PrefixTuningConfig config_;
  bool trainable_ = false;
  int64_t hidden_ = 0;
  torch::Tensor prefix_;                       // without projection
  std::shared_ptr<torch::nn::Module> module_;  // with projection: embedding + transform
  torch::nn::Embedding embedding_{nullptr};
  torch::nn::Sequential transform_{nullptr};
};

// The attention mask over a prefix of N slots + new tokens: ones for the prefix, then `mask`
// ([B, T], undefined = all ones). For callers that build ForwardArgs around a prefix by hand.
torch::Tensor mask_with_prefix(int64_t n_prefix, const torch::Tensor& mask, int64_t batch,
                               int64_t new_tokens);

}  // namespace ptune::methods
