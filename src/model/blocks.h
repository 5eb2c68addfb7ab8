// Building blocks of decoder-only transformers, shared by the architectures in model/arch/:
// RMSNorm, rotary position embeddings, masked attention over past + new keys (grouped-query),
// gated feed-forward. Pure functions of tensors, so an architecture is its weight layout plus
// the order it calls these in.
//
// Shapes: B = batch, T = new tokens, P = past length, H = query heads, Hkv = key/value heads,
// D = head_dim.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <utility>

namespace ptune::blocks {

// The rows of `table` [V, C] for token ids [...] (any shape; output [..., C]). An id outside
// [0, V) is a std::out_of_range naming it and V (libtorch would say "index out of range in
// self" with a stack trace, or on CUDA fail asynchronously).
torch::Tensor embed_tokens(const torch::Tensor& ids, const torch::Tensor& table);

// x * rsqrt(mean(x^2) + eps) * w over the last dimension.
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps);

// x @ w^T computed in w's dtype (float32 or bfloat16), returned in x's dtype.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& w);

// The inverse frequencies theta^(-2i/D), i < D/2, float32 [D/2].
torch::Tensor rope_inv_freq(double theta, int64_t head_dim);

// cos and sin of positions [B, T] times inv_freq, each [B, 1, T, D/2]: computed once per forward
// and used by every layer.
struct RopeTables {
  torch::Tensor cos, sin;
};
RopeTables rope_tables(const torch::Tensor& positions, const torch::Tensor& inv_freq);

// x [B, heads, T, D] rotated by the tables, rotate-half convention (Hugging Face's).
torch::Tensor apply_rope(const torch::Tensor& x, const RopeTables& rope);

// Additive attention bias [B, 1, T, P + T] for `mask` [B, P + T] (1 = attend): causal over
// absolute positions, or, with `tree` [B, T, T] (ForwardArgs::tree_mask), every past position
// plus the new tokens `tree` allows; padding masked. A large finite negative (not -inf) keeps
// fully padded query rows finite.
torch::Tensor attention_bias(const torch::Tensor& mask, int64_t past, int64_t new_tokens,
                             torch::TensorOptions float_options,
                             const torch::Tensor& tree = torch::Tensor());

// Scaled dot-product attention of q [B, H, T, D] over k, v [B, Hkv, P + T, D] with `bias`
// [B, 1, T, P + T]; H must be a multiple of Hkv. Returns [B, T, H * D].
torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const torch::Tensor& bias, double scale);

enum class Activation { SiLU, GeluTanh };

// Gated feed-forward: down(act(gate(x)) * up(x)), with gate and up stacked in one weight
// [2 n_ff, C] (one matmul instead of two).
torch::Tensor gated_mlp(const torch::Tensor& x, const torch::Tensor& w_gate_up,
                        const torch::Tensor& w_down, Activation act);

// The index of the last attended new token of each row of `new_mask` [B, T]: [B] int64.
torch::Tensor last_real_index(const torch::Tensor& new_mask);

}  // namespace ptune::blocks
