// Prompt tuning's soft prompt; contract in ptune/methods/prompt_tuning.h.
#include <stdexcept>

#include "methods/peft_artifact.h"
#include "methods/prompt_tuning/peft_keys.h"
#include "ptune/methods/prompt_tuning.h"

namespace ptune::methods {

namespace {

torch::Tensor initial_embeddings(const PromptTuningConfig& c, const Model& model,
                                 const Tokenizer& tok) {
  const int64_t N = c.virtual_tokens, V = model.config().n_vocab;
  const torch::Tensor& table = model.token_embedding();
  if (c.init == "random") return torch::randn({N, model.config().n_embd}) * table.std().cpu();
  if (c.init == "vocab") {
    return table.index_select(0, torch::randint(0, V, {N}, torch::kInt64).to(table.device()))
        .clone();
  }
  std::vector<int32_t> ids = tok.encode(c.init_text, false, false);
  if (ids.empty()) throw std::invalid_argument("prompt tuning: --init-text encodes to no tokens");
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < N; ++i) rows.push_back(ids[i % ids.size()]);
  return table.index_select(0, torch::tensor(rows).to(table.device())).clone();
}

}  // namespace

PromptEmbedding::PromptEmbedding(const PromptTuningConfig& c, const Model& model,
                                 const Tokenizer& tok, uint64_t seed)
    : config_(c), trainable_(true) {
  c.validate();
  torch::manual_seed(static_cast<int64_t>(seed));
  embeddings_ =
      initial_embeddings(c, model, tok).to(model.device(), torch::kFloat32).requires_grad_(true);
}

PromptEmbedding::PromptEmbedding(torch::Tensor embeddings) : embeddings_(std::move(embeddings)) {
  TORCH_CHECK(embeddings_.dim() == 2, "prompt tuning: embeddings must be [N, C], got ",
              embeddings_.sizes());
  config_.virtual_tokens = embeddings_.size(0);
}

std::vector<torch::Tensor> PromptEmbedding::parameters() const {
  return trainable_ ? std::vector<torch::Tensor>{embeddings_} : std::vector<torch::Tensor>{};
}

PastKV PromptEmbedding::state(const Model& model, bool) const {
  return soft_prompt_state(model, embeddings_.to(model.device()));
}

void PromptEmbedding::save(const std::string& dir, const ModelConfig& model,
                           const std::string& base_model) const {
  peft::PromptLearningConfig c = artifact_config("PROMPT_TUNING", n_virtual(), base_model);
  // PEFT ignores the init when it loads for inference; it records how the prompt began.
  PromptTuningPeftKeys keys;
  keys.init = config_.init == "random" ? "RANDOM"
              : config_.init == "text" ? "TEXT"
                                       : "SAMPLE_VOCAB";
  if (config_.init == "text") {
    keys.init_text = config_.init_text;
    keys.tokenizer_name_or_path = base_model;
  }
  write_prompt_tuning_keys(c, keys);
  write_prompt_embeddings(dir, c, embeddings_, model);
}

std::unique_ptr<TrainablePrompt> load_soft_prompt(const std::string& dir,
                                                  const std::string& peft_type,
                                                  const Model& model) {
  return std::make_unique<PromptEmbedding>(read_prompt_embeddings(dir, peft_type, model.config()));
}

PrependedInputs prepend_soft_prompt(const Model& model, const torch::Tensor& embeddings,
                                    const torch::Tensor& ids, const torch::Tensor& mask_in) {
  const int64_t B = ids.size(0), T = ids.size(1), N = embeddings.size(0);
  auto long_opts = torch::TensorOptions().dtype(torch::kInt64).device(model.device());
  torch::Tensor mask = mask_in.defined() ? mask_in.to(long_opts) : torch::ones({B, T}, long_opts);
  torch::Tensor tokens = model.embed(ids);                    // [B, T, C]
  torch::Tensor soft = embeddings.to(model.device());         // [N, C]
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

}  // namespace ptune::methods
