// Llama-family decoder (RMSNorm, RoPE, grouped-query attention, SwiGLU) on libtorch.
//
// One forward interface serves every ptune method:
//   token ids or input embeddings in; attention mask + position ids (left or right padding);
//   optional per-layer past keys/values prepended (prefix tuning, KV-cache decoding);
//   logits only at the positions asked for.
// Weights are frozen buffers (requires_grad false), so autograd only tracks what flows from
// trainable inputs (input embeddings, past keys/values) and never computes weight gradients.
//
// Shapes: B = batch, T = new tokens, P = past length, C = n_embd, H = n_head, Hkv = n_head_kv,
// D = head_dim, V = n_vocab.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "ptune/model/config.h"

namespace ptune {

namespace gguf {
class GgufFile;
}

// Per-layer keys and values, each [B, Hkv, P, D], in Hugging Face's layout (rotate-half RoPE,
// HF head-dim order). Keys are stored after RoPE, so they are concatenated with new keys without
// re-rotation, as a KV cache and as prefix tuning (PEFT's past_key_values) need.
struct PastKV {
  std::vector<torch::Tensor> keys;
  std::vector<torch::Tensor> values;
  bool empty() const { return keys.empty(); }
  int64_t length() const { return keys.empty() ? 0 : keys[0].size(2); }
};

enum class LogitsAt {
  None,       // hidden states only
  Last,       // last position of each row (the last non-pad token under right padding too)
  All,        // every position [B, T, V]
  Positions,  // the [B, K] indices in ForwardArgs::logit_positions
};

struct ForwardArgs {
  torch::Tensor input_ids;     // [B, T] int64, or undefined when input_embeds is set
  torch::Tensor input_embeds;  // [B, T, C] float; may require grad
  // [B, P + T], 1 = attend, 0 = padding. Undefined = all ones.
  torch::Tensor attention_mask;
  // [B, T] int64. Undefined = derived: cumulative count of real tokens (past included) - 1,
  // so left-padded rows start at position P_real.
  torch::Tensor position_ids;
  const PastKV* past = nullptr;  // prepended keys/values (may require grad)
  bool return_present = false;   // return past + new keys/values (KV cache)
  LogitsAt logits_at = LogitsAt::All;
  torch::Tensor logit_positions;  // [B, K] int64 when logits_at == Positions
  // Optional: restrict the vocabulary projection to these token ids ([V'] int64), e.g. the
  // verbalizer's label tokens. Logits then have last dimension V'.
  torch::Tensor vocab_subset;
};

struct ForwardResult {
  torch::Tensor logits;  // [B, T, V] / [B, V] (Last) / [B, K, V] (Positions); undefined for None
  torch::Tensor hidden;  // final normalized hidden states [B, T, C]
  PastKV present;        // only when return_present
};

class LlamaModel {
 public:
  // Reads config and weights from GGUF, dequantized to `matmul_dtype` on `device`.
  // float32 (default) is the reference path, checked against transformers to 2e-3.
  // bfloat16 stores the projection weights in bf16 and runs the matmuls in bf16 (norms, RoPE,
  // softmax and the residual stream stay fp32): about 3x faster matmuls on CPUs with AVX512-BF16
  // and half the memory traffic when decoding, at the cost of logit errors up to ~0.7 (top-1
  // agreement with fp32 99% on the golden prompts).
  static LlamaModel from_gguf(const gguf::GgufFile& file, torch::Device device = torch::kCPU,
                              torch::ScalarType matmul_dtype = torch::kFloat32);
  static LlamaModel load(const std::string& path, torch::Device device = torch::kCPU,
                         torch::ScalarType matmul_dtype = torch::kFloat32);

  ForwardResult forward(const ForwardArgs& args) const;

  // Token embeddings for ids [B, T] -> [B, T, C] (no grad through the table).
  torch::Tensor embed(const torch::Tensor& ids) const;
  // The [V, C] embedding table (frozen).
  const torch::Tensor& token_embedding() const { return tok_embd_; }
  const LlamaConfig& config() const { return cfg_; }
  torch::Device device() const { return tok_embd_.device(); }
  torch::ScalarType matmul_dtype() const { return output_.scalar_type(); }

 private:
  struct Layer {
    torch::Tensor attn_norm;  // [C]
    torch::Tensor w_qkv;      // [(H + 2 Hkv) D, C]: Q, K (both in HF row order), V stacked
    torch::Tensor wo;         // [C, H D]
    torch::Tensor ffn_norm;   // [C]
    torch::Tensor w_gate_up;  // [2 n_ff, C]: gate then up
    torch::Tensor w_down;     // [C, n_ff]
  };
  torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w) const;
  std::pair<torch::Tensor, torch::Tensor> rope_tables(const torch::Tensor& pos) const;
  static torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos,
                                  const torch::Tensor& sin);
  torch::Tensor project_logits(const torch::Tensor& h, const torch::Tensor& vocab_subset) const;
  // x @ w^T in w's dtype, result in float32.
  static torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& w);

  LlamaConfig cfg_;
  torch::Tensor tok_embd_;  // [V, C] float32
  torch::Tensor output_;    // [V, C] in the matmul dtype; shares tok_embd_ when tied and fp32
  torch::Tensor output_norm_;
  torch::Tensor rope_inv_freq_;  // [D/2]
  std::vector<Layer> layers_;
};

}  // namespace ptune
