// The frozen model every ptune method and the evaluator run through, whatever its architecture.
//
// One forward interface serves every method:
//   token ids or input embeddings in; attention mask + position ids (left or right padding);
//   optional per-layer past keys/values prepended (prefix tuning, soft prompts run once, the KV
//   cache of decoding); logits only at the positions asked for.
// Weights are frozen (requires_grad false), so autograd only tracks what flows from trainable
// inputs (input embeddings, past keys/values) and never computes weight gradients.
//
// Architectures register by GGUF `general.architecture` (model/architecture.h); load_model picks
// the implementation from the file, so callers never name one.
//
// Shapes: B = batch, T = new tokens, P = past length, C = n_embd, Hkv = n_head_kv, D = head_dim,
// V = n_vocab.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "ptune/model/config.h"
#include "ptune/model/past_kv.h"

namespace ptune {

namespace gguf {
class GgufFile;
}

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
  // [B, T, T] bool: which new tokens each new token attends to (row i, column j: token i sees
  // token j). Undefined = causal (j <= i). A tree of continuations scored in one row (the
  // scorer's label trie) passes ancestor-or-self here, with position_ids by depth.
  torch::Tensor tree_mask;
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

class Model {
 public:
  virtual ~Model() = default;

  virtual ForwardResult forward(const ForwardArgs& args) const = 0;
  // Token embeddings for ids [B, T] -> [B, T, C] as the first layer sees them (any scaling the
  // architecture applies included; no grad through the table).
  virtual torch::Tensor embed(const torch::Tensor& ids) const = 0;
  // The [V, C] embedding table (frozen), unscaled.
  virtual const torch::Tensor& token_embedding() const = 0;
  virtual const ModelConfig& config() const = 0;
  virtual torch::Device device() const = 0;
  virtual torch::ScalarType matmul_dtype() const = 0;
};

// Builds the model for the file's general.architecture, dequantized to `matmul_dtype` on
// `device`. float32 (default) is the reference path; bfloat16 stores the projection weights in
// bf16 (norms, RoPE, softmax and the residual stream stay fp32). Throws gguf::GgufError naming
// the architecture when none is registered for it, or the key/tensor that is wrong.
std::unique_ptr<Model> model_from_gguf(const gguf::GgufFile& file,
                                       torch::Device device = torch::kCPU,
                                       torch::ScalarType matmul_dtype = torch::kFloat32);

// Opens the GGUF at `path` and calls model_from_gguf; errors are prefixed with the path.
std::unique_ptr<Model> load_model(const std::string& path, torch::Device device = torch::kCPU,
                                  torch::ScalarType matmul_dtype = torch::kFloat32);

}  // namespace ptune
