#include "ptune/methods/prompt_tuning.h"

#include "methods/peft_artifact.h"

namespace ptune::methods {

PromptTuning::PromptTuning(torch::Tensor embeddings) : embeddings_(std::move(embeddings)) {
  TORCH_CHECK(embeddings_.dim() == 2, "prompt tuning: embeddings must be [N, C], got ",
              embeddings_.sizes());
}

PromptTuning PromptTuning::load(const std::string& dir, const LlamaConfig& model) {
  return PromptTuning(read_prompt_embeddings(dir, peft::PeftType::PROMPT_TUNING, model));
}

void PromptTuning::save(const std::string& dir, const LlamaConfig& model,
                        const std::string& base_model) const {
  write_prompt_embeddings(dir,
                          artifact_config(peft::PeftType::PROMPT_TUNING, n_virtual(), base_model),
                          embeddings_, model);
}

PromptTuning::Inputs PromptTuning::prepend(const LlamaModel& model, const torch::Tensor& ids,
                                           const torch::Tensor& mask_in) const {
  const int64_t B = ids.size(0), T = ids.size(1), N = n_virtual();
  auto long_opts = torch::TensorOptions().dtype(torch::kInt64).device(model.device());
  torch::Tensor mask = mask_in.defined() ? mask_in.to(long_opts) : torch::ones({B, T}, long_opts);
  torch::Tensor tokens = model.embed(ids);                    // [B, T, C]
  torch::Tensor soft = embeddings_.to(model.device());        // [N, C]
  torch::Tensor first_real = mask.argmax(1).to(torch::kCPU);  // leading pads per row
  std::vector<torch::Tensor> rows, masks;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t p = first_real[b].item<int64_t>();
    rows.push_back(torch::cat({tokens[b].narrow(0, 0, p), soft, tokens[b].narrow(0, p, T - p)}));
    masks.push_back(torch::cat(
        {mask[b].narrow(0, 0, p), torch::ones({N}, long_opts), mask[b].narrow(0, p, T - p)}));
  }
  return {torch::stack(rows), torch::stack(masks)};
}

PastKV soft_prompt_state(const LlamaModel& model, const torch::Tensor& embeddings) {
  torch::NoGradGuard no_grad;
  ForwardArgs a;
  a.input_embeds = embeddings.detach().unsqueeze(0);
  a.return_present = true;
  a.logits_at = LogitsAt::None;
  return model.forward(a).present;
}

}  // namespace ptune::methods
