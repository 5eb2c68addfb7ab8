// Llama decoder forward pass. See include/ptune/model/llama.h for the contract and shapes.
//
// Q/K layout: convert_hf_to_gguf permutes the rows of q_proj/k_proj per head so llama.cpp can
// rotate adjacent pairs. We undo that permutation at load time and rotate halves like Hugging
// Face, so keys/values (PastKV) have exactly HF's layout: prefix-tuning artifacts and past
// keys/values move between ptune and PEFT without any reshuffling.
#include "ptune/model/llama.h"

#include <cmath>
#include <string>

#include "model/weights.h"
#include "ptune/io/gguf.h"

namespace ptune {

namespace {

namespace F = torch::nn::functional;

std::string blk(int64_t i, const char* what) {
  return "blk." + std::to_string(i) + "." + what + ".weight";
}

// GGUF row 2i (+1) of each head is HF row i (+ D/2): regroup [H, D/2, 2, C] -> [H, 2, D/2, C].
torch::Tensor unpermute_qk(const torch::Tensor& w, int64_t heads, int64_t head_dim) {
  const int64_t cols = w.size(1);
  return w.view({heads, head_dim / 2, 2, cols}).transpose(1, 2).reshape({heads * head_dim, cols});
}

// The index of the last attended new token of each row: [B] int64.
torch::Tensor last_real_index(const torch::Tensor& new_mask) {
  const int64_t T = new_mask.size(1);
  auto ramp = torch::arange(1, T + 1, new_mask.options().dtype(torch::kInt64));
  return (new_mask.to(torch::kInt64) * ramp).argmax(1);
}

}  // namespace

LlamaModel LlamaModel::load(const std::string& path, torch::Device device,
                            torch::ScalarType matmul_dtype) {
  try {
    return from_gguf(gguf::GgufFile::open(path), device, matmul_dtype);
  } catch (const gguf::GgufError& e) {
    throw gguf::GgufError("loading model " + path + ": " + e.what());
  }
}

LlamaModel LlamaModel::from_gguf(const gguf::GgufFile& f, torch::Device device,
                                 torch::ScalarType matmul_dtype) {
  TORCH_CHECK(matmul_dtype == torch::kFloat32 || matmul_dtype == torch::kBFloat16,
              "matmul dtype must be float32 or bfloat16");
  torch::NoGradGuard no_grad;
  LlamaModel m;
  m.cfg_ = LlamaConfig::from_gguf(f);
  const LlamaConfig& c = m.cfg_;
  const int64_t C = c.n_embd, D = c.head_dim, H = c.n_head, Hkv = c.n_head_kv;
  auto put = [&](torch::Tensor t) { return t.to(device).contiguous(); };
  auto put_mm = [&](torch::Tensor t) { return t.to(device, matmul_dtype).contiguous(); };

  m.tok_embd_ = put(load_tensor(f, "token_embd.weight", {c.n_vocab, C}));
  m.output_norm_ = put(load_tensor(f, "output_norm.weight", {C}));
  m.output_ =
      c.tied_embeddings ? m.tok_embd_ : put(load_tensor(f, "output.weight", {c.n_vocab, C}));
  m.layers_.resize(c.n_layer);
  for (int64_t i = 0; i < c.n_layer; ++i) {
    Layer& L = m.layers_[i];
    L.attn_norm = put(load_tensor(f, blk(i, "attn_norm"), {C}));
    auto wq = unpermute_qk(load_tensor(f, blk(i, "attn_q"), {H * D, C}), H, D);
    auto wk = unpermute_qk(load_tensor(f, blk(i, "attn_k"), {Hkv * D, C}), Hkv, D);
    auto wv = load_tensor(f, blk(i, "attn_v"), {Hkv * D, C});
    // One matmul for Q, K and V (and one for gate and up) instead of three (two).
    L.w_qkv = put_mm(torch::cat({wq, wk, wv}, 0));
    L.wo = put_mm(load_tensor(f, blk(i, "attn_output"), {C, H * D}));
    L.ffn_norm = put(load_tensor(f, blk(i, "ffn_norm"), {C}));
    L.w_gate_up = put_mm(torch::cat({load_tensor(f, blk(i, "ffn_gate"), {c.n_ff, C}),
                                     load_tensor(f, blk(i, "ffn_up"), {c.n_ff, C})},
                                    0));
    L.w_down = put_mm(load_tensor(f, blk(i, "ffn_down"), {C, c.n_ff}));
  }
  auto idx = torch::arange(0, D / 2, torch::kFloat64);
  m.rope_inv_freq_ = put(torch::pow(c.rope_theta, -2.0 * idx / D).to(torch::kFloat32));
  return m;
}

torch::Tensor LlamaModel::embed(const torch::Tensor& ids) const {
  return F::embedding(ids.to(device()), tok_embd_);
}

torch::Tensor LlamaModel::rms_norm(const torch::Tensor& x, const torch::Tensor& w) const {
  auto var = x.pow(2).mean(-1, /*keepdim=*/true);
  return x * torch::rsqrt(var + cfg_.rms_eps) * w;
}

// cos and sin of pos * inv_freq, each [B, 1, T, D/2]: computed once per forward, used by every
// layer's queries and keys.
std::pair<torch::Tensor, torch::Tensor> LlamaModel::rope_tables(const torch::Tensor& pos) const {
  auto angles = pos.to(torch::kFloat32).unsqueeze(-1) * rope_inv_freq_;  // [B, T, D/2]
  return {angles.cos().unsqueeze(1), angles.sin().unsqueeze(1)};
}

// x: [B, heads, T, D] rotated by the angles in (cos, sin), rotate-half convention.
torch::Tensor LlamaModel::apply_rope(const torch::Tensor& x, const torch::Tensor& cos,
                                     const torch::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  auto x1 = x.narrow(-1, 0, half);
  auto x2 = x.narrow(-1, half, half);
  return torch::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1);
}

torch::Tensor LlamaModel::linear(const torch::Tensor& x, const torch::Tensor& w) {
  if (w.scalar_type() == x.scalar_type()) return F::linear(x, w);
  return F::linear(x.to(w.scalar_type()), w).to(x.scalar_type());
}

torch::Tensor LlamaModel::project_logits(const torch::Tensor& h,
                                         const torch::Tensor& vocab_subset) const {
  if (!vocab_subset.defined()) return linear(h, output_);
  return linear(h, output_.index_select(0, vocab_subset.to(device())));
}

ForwardResult LlamaModel::forward(const ForwardArgs& a) const {
  const LlamaConfig& c = cfg_;
  const int64_t D = c.head_dim, H = c.n_head, Hkv = c.n_head_kv, group = H / Hkv;

  torch::Tensor x = a.input_embeds.defined() ? a.input_embeds.to(device()) : embed(a.input_ids);
  TORCH_CHECK(x.dim() == 3 && x.size(2) == c.n_embd, "forward: inputs must be [B, T, ", c.n_embd,
              "], got ", x.sizes());
  const int64_t B = x.size(0), T = x.size(1);
  const int64_t P = a.past ? a.past->length() : 0;
  TORCH_CHECK(!a.past || static_cast<int64_t>(a.past->keys.size()) == c.n_layer,
              "forward: past has ", a.past ? a.past->keys.size() : 0, " layers, model has ",
              c.n_layer);

  auto long_opts = torch::TensorOptions().dtype(torch::kInt64).device(device());
  torch::Tensor mask = a.attention_mask.defined() ? a.attention_mask.to(long_opts)
                                                  : torch::ones({B, P + T}, long_opts);
  TORCH_CHECK(mask.size(0) == B && mask.size(1) == P + T, "forward: attention_mask must be [", B,
              ", ", P + T, "], got ", mask.sizes());
  torch::Tensor pos = a.position_ids.defined() ? a.position_ids.to(long_opts)
                                               : (mask.cumsum(1) - 1).clamp_min(0).narrow(1, P, T);

  // Additive attention bias [B, 1, T, P+T]: causal over absolute positions, padding masked.
  // A large finite negative (not -inf) keeps fully padded query rows finite.
  auto q_idx = torch::arange(P, P + T, long_opts).unsqueeze(1);
  auto k_idx = torch::arange(0, P + T, long_opts).unsqueeze(0);
  auto allowed = (k_idx <= q_idx).unsqueeze(0) & mask.unsqueeze(1).to(torch::kBool);
  auto bias = torch::zeros({B, T, P + T}, x.options())
                  .masked_fill(allowed.logical_not(), -1e30f)
                  .unsqueeze(1);
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  auto [cos, sin] = rope_tables(pos);

  ForwardResult out;
  if (a.return_present) {
    out.present.keys.reserve(c.n_layer);
    out.present.values.reserve(c.n_layer);
  }
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const Layer& L = layers_[l];
    // --- attention ---
    auto h = rms_norm(x, L.attn_norm);
    auto qkv = linear(h, L.w_qkv);  // [B, T, (H + 2 Hkv) D]
    auto q = qkv.narrow(2, 0, H * D).view({B, T, H, D}).transpose(1, 2);
    auto k = qkv.narrow(2, H * D, Hkv * D).view({B, T, Hkv, D}).transpose(1, 2);
    auto v = qkv.narrow(2, (H + Hkv) * D, Hkv * D).view({B, T, Hkv, D}).transpose(1, 2);
    q = apply_rope(q, cos, sin);
    k = apply_rope(k, cos, sin);
    if (a.past) {
      k = torch::cat({a.past->keys[l].to(k.device(), k.dtype()), k}, 2);
      v = torch::cat({a.past->values[l].to(v.device(), v.dtype()), v}, 2);
    }
    if (a.return_present) {
      out.present.keys.push_back(k);
      out.present.values.push_back(v);
    }
    // Grouped-query attention without copying K/V: the `group` query heads that share a KV
    // head are stacked along the time axis, [B, Hkv, group*T, D].
    auto qg = q.reshape({B, Hkv, group * T, D});
    auto scores = torch::matmul(qg, k.transpose(2, 3)).mul_(scale);  // [B, Hkv, group*T, P+T]
    scores = scores.view({B, Hkv, group, T, P + T}) + bias.unsqueeze(2);
    auto probs = torch::softmax(scores, -1).view({B, Hkv, group * T, P + T});
    auto attn = torch::matmul(probs, v)  // [B, Hkv, group*T, D]
                    .view({B, H, T, D})
                    .transpose(1, 2)
                    .reshape({B, T, H * D});
    x = x + linear(attn, L.wo);
    // --- SwiGLU feed-forward ---
    auto g = linear(rms_norm(x, L.ffn_norm), L.w_gate_up);  // [B, T, 2 n_ff]
    auto act = F::silu(g.narrow(2, 0, c.n_ff)) * g.narrow(2, c.n_ff, c.n_ff);
    x = x + linear(act, L.w_down);
  }
  out.hidden = rms_norm(x, output_norm_);

  switch (a.logits_at) {
    case LogitsAt::None:
      break;
    case LogitsAt::All:
      out.logits = project_logits(out.hidden, a.vocab_subset);
      break;
    case LogitsAt::Last: {
      auto last = last_real_index(mask.narrow(1, P, T));  // [B]
      auto rows = torch::arange(B, long_opts);
      out.logits = project_logits(out.hidden.index({rows, last}), a.vocab_subset);
      break;
    }
    case LogitsAt::Positions: {
      TORCH_CHECK(a.logit_positions.defined() && a.logit_positions.dim() == 2 &&
                      a.logit_positions.size(0) == B,
                  "forward: logit_positions must be [B, K]");
      auto idx = a.logit_positions.to(long_opts);
      auto picked = out.hidden.gather(1, idx.unsqueeze(-1).expand({B, idx.size(1), c.n_embd}));
      out.logits = project_logits(picked, a.vocab_subset);
      break;
    }
  }
  return out;
}

}  // namespace ptune
