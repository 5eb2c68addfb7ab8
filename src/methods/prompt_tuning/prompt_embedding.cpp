#include <stdexcept>

#include "methods/peft_artifact.h"
#include "ptune/methods/prompt_tuning.h"

namespace ptune::methods {

PromptEmbedding::PromptEmbedding(const PromptTuningConfig& c, const LlamaModel& model,
                                 const Tokenizer& tok, uint64_t seed)
    : config_(c) {
  const int64_t N = c.virtual_tokens, V = model.config().n_vocab;
  if (N < 1) throw std::invalid_argument("prompt tuning: virtual_tokens must be >= 1");
  const torch::Tensor& table = model.token_embedding();
  torch::manual_seed(static_cast<int64_t>(seed));
  switch (c.init) {
    case PromptInit::Random:
      embeddings_ = torch::randn({N, model.config().n_embd}) * table.std().cpu();
      break;
    case PromptInit::SampleVocab:
      embeddings_ =
          table.index_select(0, torch::randint(0, V, {N}, torch::kInt64).to(table.device()))
              .clone();
      break;
    case PromptInit::Text: {
      std::vector<int32_t> ids = tok.encode(c.init_text, false, false);
      if (ids.empty())
        throw std::invalid_argument("prompt tuning: the init text encodes to no tokens");
      std::vector<int64_t> rows;
      for (int64_t i = 0; i < N; ++i) rows.push_back(ids[i % ids.size()]);
      embeddings_ = table.index_select(0, torch::tensor(rows).to(table.device())).clone();
      break;
    }
  }
  embeddings_ = embeddings_.to(model.device(), torch::kFloat32).requires_grad_(true);
}

void PromptEmbedding::save(const std::string& dir, const LlamaConfig& model,
                           const std::string& base_model) const {
  peft::PromptLearningConfig c =
      artifact_config(peft::PeftType::PROMPT_TUNING, config_.virtual_tokens, base_model);
  // PEFT ignores the init when it loads for inference; it records how the prompt began.
  c.prompt_tuning_init = config_.init == PromptInit::Random ? peft::PromptTuningInit::RANDOM
                         : config_.init == PromptInit::SampleVocab
                             ? peft::PromptTuningInit::SAMPLE_VOCAB
                             : peft::PromptTuningInit::TEXT;
  if (config_.init == PromptInit::Text) {
    c.prompt_tuning_init_text = config_.init_text;
    c.tokenizer_name_or_path = base_model;
  }
  write_prompt_embeddings(dir, c, embeddings_, model);
}

}  // namespace ptune::methods
