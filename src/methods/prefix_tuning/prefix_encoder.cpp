#include <stdexcept>

#include "methods/peft_artifact.h"
#include "ptune/methods/prefix_tuning.h"
#include "ptune/methods/prompt_tuning.h"

namespace ptune::methods {

namespace nn = torch::nn;

namespace {

// [N, L * 2 * Hkv * D]: the keys/values the model computes for N embeddings, in PEFT's row
// layout [L0 K, L0 V, L1 K, ...] (each block Hkv * D wide, heads outer).
torch::Tensor prefix_from_embeddings(const LlamaModel& model, const torch::Tensor& embeds) {
  torch::NoGradGuard no_grad;
  PastKV p = soft_prompt_state(model, embeds);
  std::vector<torch::Tensor> blocks;  // each [N, Hkv * D]
  for (size_t l = 0; l < p.keys.size(); ++l) {
    for (const torch::Tensor& t : {p.keys[l][0], p.values[l][0]}) {  // [Hkv, N, D]
      blocks.push_back(t.permute({1, 0, 2}).reshape({t.size(1), -1}));
    }
  }
  return torch::cat(blocks, 1).contiguous();
}

}  // namespace

PrefixEncoder::PrefixEncoder(const PrefixTuningConfig& c, const LlamaModel& model, uint64_t seed)
    : config_(c) {
  const LlamaConfig& m = model.config();
  const int64_t N = c.virtual_tokens, kv_dim = m.n_head_kv * m.head_dim;
  if (N < 1) throw std::invalid_argument("prefix tuning: virtual_tokens must be >= 1");
  if (c.hidden_size < 0) throw std::invalid_argument("prefix tuning: hidden size must be >= 0");
  hidden_ = c.hidden_size > 0 ? c.hidden_size : kv_dim;
  torch::manual_seed(static_cast<int64_t>(seed));
  const torch::Tensor rows = torch::randint(0, m.n_vocab, {N}, torch::kInt64);
  const torch::Tensor& table = model.token_embedding();
  const torch::Tensor real =
      prefix_from_embeddings(model, table.index_select(0, rows.to(table.device())));
  if (!c.projection) {
    prefix_ = real.requires_grad_(true);
    return;
  }
  module_ = std::make_shared<nn::Module>();
  embedding_ = module_->register_module("embedding", nn::Embedding(N, kv_dim));
  nn::Linear first(kv_dim, hidden_), last(hidden_, m.n_layer * 2 * kv_dim);
  transform_ = module_->register_module("transform", nn::Sequential(first, nn::Tanh(), last));
  module_->to(model.device());
  // PEFT leaves the whole encoder at PyTorch's default initialisation, so the first prefix is
  // noise the model has never seen (on our sentiment task that cost 40 points of accuracy after
  // 60 steps). We keep the embedding and first layer as they are and solve the last layer so the
  // encoder starts out producing the real-activation prefix: with hidden h = tanh(first(E)) [N, H]
  // and A = [h, 1], the min-norm [W; b] = pinv(A) @ real is exact whenever N <= H + 1.
  torch::NoGradGuard no_grad;
  const torch::Tensor h = torch::tanh(first->forward(embedding_->weight));
  const torch::Tensor A = torch::cat({h, torch::ones({N, 1}, h.options())}, 1);
  const torch::Tensor X = torch::matmul(torch::pinverse(A), real);  // [H + 1, L * 2 * kv]
  last->weight.copy_(X.narrow(0, 0, hidden_).t());
  last->bias.copy_(X[hidden_]);
}

std::vector<torch::Tensor> PrefixEncoder::parameters() const {
  return module_ ? module_->parameters() : std::vector<torch::Tensor>{prefix_};
}

torch::Tensor PrefixEncoder::output(bool training) const {
  if (!module_) return prefix_;
  module_->train(training);
  return transform_.ptr()->forward(embedding_->weight);
}

void PrefixEncoder::save(const std::string& dir, const LlamaConfig& model,
                         const std::string& base_model) const {
  peft::PromptLearningConfig c =
      artifact_config(peft::PeftType::PREFIX_TUNING, config_.virtual_tokens, base_model);
  c.prefix_projection = config_.projection;
  if (config_.projection) c.encoder_hidden_size = hidden_;
  torch::NoGradGuard no_grad;
  write_prompt_embeddings(dir, c, output(false), model);
}

}  // namespace ptune::methods
