// Per-layer past keys and values, and the few ways ptune reshapes them (once, here).
//
// Layout: Hugging Face's ([B, Hkv, P, D] per layer, rotate-half RoPE, HF head-dim order). Keys
// are stored after RoPE, so they are concatenated with new keys without re-rotation, as a KV
// cache and as prefix tuning (PEFT's past_key_values) need.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace ptune {

struct PastKV {
  std::vector<torch::Tensor> keys;    // per layer [B, Hkv, P, D]
  std::vector<torch::Tensor> values;  // per layer [B, Hkv, P, D]
  bool empty() const { return keys.empty(); }
  int64_t length() const { return keys.empty() ? 0 : keys[0].size(2); }
  int64_t batch() const { return keys.empty() ? 0 : keys[0].size(0); }
};

// A one-row state [1, Hkv, P, D] seen by `batch` rows: expanded views, no copy, gradients flow
// back to the one row.
PastKV expand_past(const PastKV& past, int64_t batch);

// Rows `rows` ([R] int64, on the state's device) of a batched state.
PastKV select_past_rows(const PastKV& past, const torch::Tensor& rows);

// A flat prefix [N, L * 2 * Hkv * D] (PEFT's prefix-tuning layout: per virtual token the row is
// [L0 keys, L0 values, L1 keys, ...], each block Hkv * D wide) as a one-row state
// [1, Hkv, N, D] per layer. Views of `flat`, so gradients reach it.
PastKV past_from_flat(const torch::Tensor& flat, int64_t n_layer, int64_t n_head_kv,
                      int64_t head_dim);

// The inverse of past_from_flat for a one-row state: [N, L * 2 * Hkv * D].
torch::Tensor past_to_flat(const PastKV& past);

}  // namespace ptune
