// Prefix tuning (Li & Liang 2021): per-layer key/value prefixes of N virtual tokens, fed through
// the model's past-key-value input. Sized by the model's key/value heads, so grouped-query
// attention is right. Artifacts use PEFT's format: `prompt_embeddings` [N, L * 2 * Hkv * D], each
// row laid out [L0 keys, L0 values, L1 keys, ...], each block Hkv * D wide.
#pragma once

#include <torch/torch.h>

#include <string>

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

}  // namespace ptune::methods
