#include "ptune/methods/prefix_tuning.h"

#include "methods/peft_artifact.h"

namespace ptune::methods {

PrefixTuning::PrefixTuning(torch::Tensor prefix, const LlamaConfig& m)
    : prefix_(std::move(prefix)),
      n_layer_(m.n_layer),
      n_head_kv_(m.n_head_kv),
      head_dim_(m.head_dim) {
  TORCH_CHECK(prefix_.dim() == 2 && prefix_.size(1) == n_layer_ * 2 * n_head_kv_ * head_dim_,
              "prefix tuning: prefix must be [N, ", n_layer_ * 2 * n_head_kv_ * head_dim_,
              "] (layers * 2 * kv_heads * head_dim), got ", prefix_.sizes());
}

PrefixTuning PrefixTuning::load(const std::string& dir, const LlamaConfig& model) {
  return PrefixTuning(read_prompt_embeddings(dir, peft::PeftType::PREFIX_TUNING, model), model);
}

void PrefixTuning::save(const std::string& dir, const LlamaConfig& model,
                        const std::string& base_model) const {
  write_prompt_embeddings(
      dir, artifact_config(peft::PeftType::PREFIX_TUNING, n_virtual(), base_model), prefix_, model);
}

PastKV PrefixTuning::past(int64_t batch) const {
  const int64_t N = n_virtual();
  // [N, L*2*Hkv*D] -> [L*2, Hkv, N, D]: block 2l holds layer l's keys, block 2l+1 its values.
  torch::Tensor kv = prefix_.view({N, n_layer_ * 2, n_head_kv_, head_dim_}).permute({1, 2, 0, 3});
  PastKV p;
  for (int64_t l = 0; l < n_layer_; ++l) {
    p.keys.push_back(kv[2 * l].unsqueeze(0).expand({batch, n_head_kv_, N, head_dim_}));
    p.values.push_back(kv[2 * l + 1].unsqueeze(0).expand({batch, n_head_kv_, N, head_dim_}));
  }
  return p;
}

torch::Tensor PrefixTuning::extend_mask(const torch::Tensor& mask, int64_t batch,
                                        int64_t new_tokens) const {
  auto opts = torch::TensorOptions().dtype(torch::kInt64).device(prefix_.device());
  torch::Tensor m = mask.defined() ? mask.to(opts) : torch::ones({batch, new_tokens}, opts);
  return torch::cat({torch::ones({batch, n_virtual()}, opts), m}, 1);
}

}  // namespace ptune::methods
