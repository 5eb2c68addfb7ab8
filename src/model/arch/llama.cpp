// The llama family (GGUF general.architecture "llama": Llama 2/3, SmolLM2, TinyLlama, ...):
// RMSNorm, RoPE, grouped-query attention, SwiGLU, optionally tied output embeddings.
// Contract of forward() in include/ptune/model/model.h.
//
// Q/K layout: convert_hf_to_gguf permutes the rows of q_proj/k_proj per head so llama.cpp can
// rotate adjacent pairs. We undo that permutation at load time and rotate halves like Hugging
// Face, so keys/values (PastKV) have exactly HF's layout: prefix-tuning artifacts and past
// keys/values move between ptune and PEFT without any reshuffling.
#include <cmath>
#include <stdexcept>
#include <string>

#include "model/blocks.h"
#include "model/weights.h"
#include "ptune/io/gguf.h"
#include "ptune/model/architecture.h"

namespace ptune {

namespace {

std::string blk(int64_t i, const char* what) {
  return "blk." + std::to_string(i) + "." + what + ".weight";
}

// GGUF row 2i (+1) of each head is HF row i (+ D/2): regroup [H, D/2, 2, C] -> [H, 2, D/2, C].
torch::Tensor unpermute_qk(const torch::Tensor& w, int64_t heads, int64_t head_dim) {
  const int64_t cols = w.size(1);
  return w.view({heads, head_dim / 2, 2, cols}).transpose(1, 2).reshape({heads * head_dim, cols});
}

class LlamaModel final : public Model {
 public:
  LlamaModel(const gguf::GgufFile& f, torch::Device device, torch::ScalarType matmul_dtype);

  ForwardResult forward(const ForwardArgs& args) const override;
  torch::Tensor embed(const torch::Tensor& ids) const override {
    return blocks::embed_tokens(ids, tok_embd_);
  }
  const torch::Tensor& token_embedding() const override { return tok_embd_; }
  const ModelConfig& config() const override { return cfg_; }
  torch::Device device() const override { return tok_embd_.device(); }
  torch::ScalarType matmul_dtype() const override { return matmul_dtype_; }

 private:
  struct Layer {
    torch::Tensor attn_norm;  // [C]
    torch::Tensor w_qkv;      // [(H + 2 Hkv) D, C]: Q, K (both in HF row order), V stacked
    torch::Tensor wo;         // [C, H D]
    torch::Tensor ffn_norm;   // [C]
    torch::Tensor w_gate_up;  // [2 n_ff, C]: gate then up
    torch::Tensor w_down;     // [C, n_ff]
  };
  torch::Tensor attention(const Layer& L, const torch::Tensor& x, const blocks::RopeTables& rope,
                          const torch::Tensor& bias, const PastKV* past, size_t layer,
                          PastKV* present) const;
  torch::Tensor logits(const ForwardArgs& a, const torch::Tensor& hidden,
                       const torch::Tensor& new_mask) const;
  torch::Tensor project(const torch::Tensor& h, const torch::Tensor& vocab_subset) const;

  ModelConfig cfg_;
  torch::Tensor tok_embd_;  // [V, C] float32
  torch::Tensor output_;    // [V, C] float32; shares tok_embd_ when tied
  torch::ScalarType matmul_dtype_;
  torch::Tensor output_norm_;
  torch::Tensor rope_inv_freq_;  // [D/2]
  std::vector<Layer> layers_;
};

LlamaModel::LlamaModel(const gguf::GgufFile& f, torch::Device device,
                       torch::ScalarType matmul_dtype)
    : matmul_dtype_(matmul_dtype) {
  torch::NoGradGuard no_grad;
  cfg_ = ModelConfig::from_gguf(f);
  const ModelConfig& c = cfg_;
  const int64_t C = c.n_embd, D = c.head_dim, H = c.n_head, Hkv = c.n_head_kv;
  auto put = [&](torch::Tensor t) { return t.to(device).contiguous(); };
  auto put_mm = [&](torch::Tensor t) { return t.to(device, matmul_dtype).contiguous(); };

  tok_embd_ = put(load_tensor(f, "token_embd.weight", {c.n_vocab, C}));
  output_norm_ = put(load_tensor(f, "output_norm.weight", {C}));
  // The output projection stays float32: logits are what every method is scored on.
  output_ = c.tied_embeddings ? tok_embd_ : put(load_tensor(f, "output.weight", {c.n_vocab, C}));
  layers_.resize(c.n_layer);
  for (int64_t i = 0; i < c.n_layer; ++i) {
    Layer& L = layers_[i];
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
  rope_inv_freq_ = put(blocks::rope_inv_freq(c.rope_theta, D));
}

// One layer's attention block (pre-norm, residual added by the caller); appends this layer's
// past + new keys/values to `present` when given.
torch::Tensor LlamaModel::attention(const Layer& L, const torch::Tensor& x,
                                    const blocks::RopeTables& rope, const torch::Tensor& bias,
                                    const PastKV* past, size_t layer, PastKV* present) const {
  const int64_t B = x.size(0), T = x.size(1);
  const int64_t D = cfg_.head_dim, H = cfg_.n_head, Hkv = cfg_.n_head_kv;
  auto qkv = blocks::linear(blocks::rms_norm(x, L.attn_norm, cfg_.rms_eps), L.w_qkv);
  auto q = qkv.narrow(2, 0, H * D).view({B, T, H, D}).transpose(1, 2);
  auto k = qkv.narrow(2, H * D, Hkv * D).view({B, T, Hkv, D}).transpose(1, 2);
  auto v = qkv.narrow(2, (H + Hkv) * D, Hkv * D).view({B, T, Hkv, D}).transpose(1, 2);
  q = blocks::apply_rope(q, rope);
  k = blocks::apply_rope(k, rope);
  if (past) {
    k = torch::cat({past->keys[layer].to(k.device(), k.dtype()), k}, 2);
    v = torch::cat({past->values[layer].to(v.device(), v.dtype()), v}, 2);
  }
  if (present) {
    present->keys.push_back(k);
    present->values.push_back(v);
  }
  auto attn = blocks::attend(q, k, v, bias, 1.0 / std::sqrt(static_cast<double>(D)));
  return blocks::linear(attn, L.wo);
}

ForwardResult LlamaModel::forward(const ForwardArgs& a) const {
  const ModelConfig& c = cfg_;
  torch::Tensor x = a.input_embeds.defined() ? a.input_embeds.to(device()) : embed(a.input_ids);
  TORCH_CHECK(x.dim() == 3 && x.size(2) == c.n_embd, "forward: inputs must be [B, T, ", c.n_embd,
              "], got ", x.sizes());
  const int64_t B = x.size(0), T = x.size(1);
  const int64_t P = a.past ? a.past->length() : 0;
  TORCH_CHECK(!a.past || static_cast<int64_t>(a.past->keys.size()) == c.n_layer,
              "forward: past has ", a.past ? a.past->keys.size() : 0, " layers, model has ",
              c.n_layer);
  // Past the trained context RoPE positions are ones the model never saw, and the attention
  // tensors grow with (P + T)^2: refuse before allocating anything.
  if (c.n_ctx_train > 0 && P + T > c.n_ctx_train) {
    throw std::invalid_argument("forward: " + std::to_string(P + T) + " tokens (" +
                                std::to_string(P) + " past + " + std::to_string(T) +
                                " new) exceed the model's context length of " +
                                std::to_string(c.n_ctx_train));
  }

  auto long_opts = torch::TensorOptions().dtype(torch::kInt64).device(device());
  torch::Tensor mask = a.attention_mask.defined() ? a.attention_mask.to(long_opts)
                                                  : torch::ones({B, P + T}, long_opts);
  TORCH_CHECK(mask.size(0) == B && mask.size(1) == P + T, "forward: attention_mask must be [", B,
              ", ", P + T, "], got ", mask.sizes());
  torch::Tensor pos = a.position_ids.defined() ? a.position_ids.to(long_opts)
                                               : (mask.cumsum(1) - 1).clamp_min(0).narrow(1, P, T);
  const torch::Tensor bias = blocks::attention_bias(mask, P, T, x.options(), a.tree_mask);
  const blocks::RopeTables rope = blocks::rope_tables(pos, rope_inv_freq_);

  ForwardResult out;
  PastKV* present = a.return_present ? &out.present : nullptr;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const Layer& L = layers_[l];
    x = x + attention(L, x, rope, bias, a.past, l, present);
    x = x + blocks::gated_mlp(blocks::rms_norm(x, L.ffn_norm, c.rms_eps), L.w_gate_up, L.w_down,
                              blocks::Activation::SiLU);
  }
  out.hidden = blocks::rms_norm(x, output_norm_, c.rms_eps);
  out.logits = logits(a, out.hidden, mask.narrow(1, P, T));
  return out;
}

torch::Tensor LlamaModel::logits(const ForwardArgs& a, const torch::Tensor& hidden,
                                 const torch::Tensor& new_mask) const {
  const int64_t B = hidden.size(0);
  switch (a.logits_at) {
    case LogitsAt::None:
      return {};
    case LogitsAt::All:
      return project(hidden, a.vocab_subset);
    case LogitsAt::Last: {
      auto rows = torch::arange(B, new_mask.options());
      return project(hidden.index({rows, blocks::last_real_index(new_mask)}), a.vocab_subset);
    }
    case LogitsAt::Positions: {
      TORCH_CHECK(a.logit_positions.defined() && a.logit_positions.dim() == 2 &&
                      a.logit_positions.size(0) == B,
                  "forward: logit_positions must be [B, K]");
      auto idx = a.logit_positions.to(new_mask.device(), torch::kInt64);
      auto picked = hidden.gather(1, idx.unsqueeze(-1).expand({B, idx.size(1), cfg_.n_embd}));
      return project(picked, a.vocab_subset);
    }
  }
  return {};
}

torch::Tensor LlamaModel::project(const torch::Tensor& h, const torch::Tensor& vocab_subset) const {
  if (!vocab_subset.defined()) return blocks::linear(h, output_);
  return blocks::linear(h, output_.index_select(0, vocab_subset.to(device())));
}

}  // namespace

namespace detail {
void register_architecture_llama() {
  register_architecture({"llama",
                         "Llama family: RMSNorm, RoPE, grouped-query attention, SwiGLU "
                         "(Llama 2/3, SmolLM2, TinyLlama)",
                         [](const gguf::GgufFile& f, torch::Device d, torch::ScalarType t) {
                           return std::unique_ptr<Model>(new LlamaModel(f, d, t));
                         }});
}
}  // namespace detail

}  // namespace ptune
