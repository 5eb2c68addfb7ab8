// Prefix tuning (Li & Liang 2021): per-layer key/value prefixes of N virtual tokens, fed through
// the model's past-key-value input. Sized by the model's key/value heads, so grouped-query
// attention is right. Artifacts use PEFT's format: `prompt_embeddings` [N, L * 2 * Hkv * D], each
// row laid out [L0 keys, L0 values, L1 keys, ...], each block Hkv * D wide.
#pragma once

#include <torch/torch.h>

#include <string>

#include "ptune/methods/trainable.h"
#include "ptune/model/llama.h"

namespace ptune::methods {

class PrefixTuning {
 public:
  // prefix: [N, L * 2 * Hkv * D] float32 (may require grad).
  PrefixTuning(torch::Tensor prefix, const LlamaConfig& model);

  static PrefixTuning load(const std::string& dir, const LlamaConfig& model);
  void save(const std::string& dir, const LlamaConfig& model, const std::string& base_model) const;

  // Keys and values [B, Hkv, N, D] per layer for a batch of B rows (views of the prefix, so
  // gradients reach it). Keys are used as given (PEFT's prefixes are not rotated either).
  PastKV past(int64_t batch) const;
  // The attention mask over prefix + input: ones for the N prefix slots, then `mask` ([B, T],
  // undefined = all ones).
  torch::Tensor extend_mask(const torch::Tensor& mask, int64_t batch, int64_t new_tokens) const;

  const torch::Tensor& prefix() const { return prefix_; }
  int64_t n_virtual() const { return prefix_.size(0); }

 private:
  torch::Tensor prefix_;
  int64_t n_layer_, n_head_kv_, head_dim_;
};

struct PrefixTuningConfig {
  int64_t virtual_tokens = 20;
  // Li & Liang's reparameterisation (PEFT's prefix_projection): learn Embedding(N, Hkv * D) ->
  // Linear(Hkv * D, H) Tanh Linear(H, L * 2 * Hkv * D) instead of the prefix itself. Their
  // finding: direct optimisation is unstable for some tasks; the MLP smooths it.
  bool projection = false;
  int64_t hidden_size = 0;  // H; 0 = PEFT's default, Hkv * D
};

// Prefix tuning while it is learned. Both forms start from the keys/values the frozen model
// computes for N sampled vocabulary tokens (Li & Liang: initialising with real activations
// matters): without projection the prefix is that tensor; with projection the embedding and
// first layer keep PyTorch's default initialisation and the last layer is solved so that the
// encoder's first output is that tensor (exact while N <= H + 1).
class PrefixEncoder : public TrainablePrompt {
 public:
  // Seeded. Throws std::invalid_argument for bad sizes.
  PrefixEncoder(const PrefixTuningConfig& config, const LlamaModel& model, uint64_t seed);

  Form form() const override { return Form::Prefix; }
  std::vector<torch::Tensor> parameters() const override;
  torch::Tensor output(bool training) const override;  // [N, L * 2 * Hkv * D]
  void save(const std::string& dir, const LlamaConfig& model,
            const std::string& base_model) const override;

 private:
  PrefixTuningConfig config_;
  int64_t hidden_ = 0;
  torch::Tensor prefix_;                       // without projection
  std::shared_ptr<torch::nn::Module> module_;  // with projection: embedding + transform
  torch::nn::Embedding embedding_{nullptr};
  torch::nn::Sequential transform_{nullptr};
};

}  // namespace ptune::methods
