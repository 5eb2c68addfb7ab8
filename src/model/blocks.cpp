// Transformer blocks; contract in model/blocks.h.
#include "model/blocks.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace ptune::blocks {

namespace F = torch::nn::functional;

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  auto var = x.pow(2).mean(-1, /*keepdim=*/true);
  return x * torch::rsqrt(var + eps) * w;
}

torch::Tensor embed_tokens(const torch::Tensor& ids, const torch::Tensor& table) {
  const int64_t n_vocab = table.size(0);
  if (ids.numel() > 0) {
    const int64_t lo = ids.min().item<int64_t>(), hi = ids.max().item<int64_t>();
    if (lo < 0 || hi >= n_vocab) {
      throw std::out_of_range("token id " + std::to_string(lo < 0 ? lo : hi) +
                              " is outside the model's vocabulary (token_embd.weight has " +
                              std::to_string(n_vocab) + " rows)");
    }
  }
  return F::embedding(ids.to(table.device()), table);
}

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& w) {
  if (w.scalar_type() == x.scalar_type()) return F::linear(x, w);
  return F::linear(x.to(w.scalar_type()), w).to(x.scalar_type());
}

torch::Tensor rope_inv_freq(double theta, int64_t head_dim) {
  auto idx = torch::arange(0, head_dim / 2, torch::kFloat64);
  return torch::pow(theta, -2.0 * idx / head_dim).to(torch::kFloat32);
}

RopeTables rope_tables(const torch::Tensor& positions, const torch::Tensor& inv_freq) {
  auto angles = positions.to(torch::kFloat32).unsqueeze(-1) * inv_freq;  // [B, T, D/2]
  return {angles.cos().unsqueeze(1), angles.sin().unsqueeze(1)};
}

torch::Tensor apply_rope(const torch::Tensor& x, const RopeTables& rope) {
  const int64_t half = x.size(-1) / 2;
  auto x1 = x.narrow(-1, 0, half);
  auto x2 = x.narrow(-1, half, half);
  return torch::cat({x1 * rope.cos - x2 * rope.sin, x2 * rope.cos + x1 * rope.sin}, -1);
}

torch::Tensor attention_bias(const torch::Tensor& mask, int64_t P, int64_t T,
                             torch::TensorOptions float_options, const torch::Tensor& tree) {
  auto long_opts = mask.options().dtype(torch::kInt64);
  torch::Tensor order;  // [B or 1, T, P + T]: which positions each new token may see
  if (tree.defined()) {
    TORCH_CHECK(
        tree.dim() == 3 && tree.size(0) == mask.size(0) && tree.size(1) == T && tree.size(2) == T,
        "forward: tree_mask must be [", mask.size(0), ", ", T, ", ", T, "], got ", tree.sizes());
    auto past = torch::ones({mask.size(0), T, P}, long_opts.dtype(torch::kBool));
    order = torch::cat({past, tree.to(long_opts.dtype(torch::kBool))}, 2);
  } else {
    auto q_idx = torch::arange(P, P + T, long_opts).unsqueeze(1);
    auto k_idx = torch::arange(0, P + T, long_opts).unsqueeze(0);
    order = (k_idx <= q_idx).unsqueeze(0);
  }
  auto allowed = order & mask.unsqueeze(1).to(torch::kBool);
  return torch::zeros({mask.size(0), T, P + T}, float_options)
      .masked_fill(allowed.logical_not(), -1e30f)
      .unsqueeze(1);
}

namespace {

// Attention of q [B, H, T, D] in one piece.
torch::Tensor attend_all(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                         const torch::Tensor& bias, double scale) {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3);
  const int64_t Hkv = k.size(1), S = k.size(2), group = H / Hkv;
  // Grouped-query attention without copying K/V: the `group` query heads that share a KV head
  // are stacked along the time axis, [B, Hkv, group*T, D].
  auto qg = q.reshape({B, Hkv, group * T, D});
  auto scores = torch::matmul(qg, k.transpose(2, 3)).mul_(scale);  // [B, Hkv, group*T, S]
  scores = scores.view({B, Hkv, group, T, S}) + bias.unsqueeze(2);
  auto probs = torch::softmax(scores, -1).view({B, Hkv, group * T, S});
  return torch::matmul(probs, v)  // [B, Hkv, group*T, D]
      .view({B, H, T, D})
      .transpose(1, 2)
      .reshape({B, T, H * D});
}

}  // namespace

torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const torch::Tensor& bias, double scale) {
  // The scores are [B, H, T, S] floats: for a long prompt (T = S = 8192, 9 heads) 2.4 GB at
  // once. Queries are independent, so they run in chunks that keep the scores under
  // kMaxScores floats (256 MiB); short inputs take the single-piece path unchanged.
  constexpr int64_t kMaxScores = int64_t{1} << 26;
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), S = k.size(2);
  const int64_t rows = std::max<int64_t>(1, kMaxScores / std::max<int64_t>(1, B * H * S));
  if (rows >= T) return attend_all(q, k, v, bias, scale);
  std::vector<torch::Tensor> parts;
  for (int64_t t = 0; t < T; t += rows) {
    const int64_t n = std::min(rows, T - t);
    parts.push_back(attend_all(q.narrow(2, t, n), k, v, bias.narrow(2, t, n), scale));
  }
  return torch::cat(parts, 1);
}

torch::Tensor gated_mlp(const torch::Tensor& x, const torch::Tensor& w_gate_up,
                        const torch::Tensor& w_down, Activation act) {
  auto g = blocks::linear(x, w_gate_up);  // [B, T, 2 n_ff]
  const int64_t n_ff = g.size(-1) / 2;
  auto gate = g.narrow(-1, 0, n_ff);
  auto up = g.narrow(-1, n_ff, n_ff);
  auto a = act == Activation::SiLU ? F::silu(gate)
                                   : F::gelu(gate, F::GELUFuncOptions().approximate("tanh"));
  return blocks::linear(a * up, w_down);
}

torch::Tensor last_real_index(const torch::Tensor& new_mask) {
  const int64_t T = new_mask.size(1);
  auto ramp = torch::arange(1, T + 1, new_mask.options().dtype(torch::kInt64));
  return (new_mask.to(torch::kInt64) * ramp).argmax(1);
}

}  // namespace ptune::blocks
