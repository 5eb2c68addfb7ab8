#include <stdexcept>

#include "methods/peft_artifact.h"
#include "ptune/methods/p_tuning.h"

namespace ptune::methods {

namespace nn = torch::nn;

PromptEncoder::PromptEncoder(const PTuningConfig& c, const LlamaModel& model, uint64_t seed)
    : config_(c), hidden_(c.hidden_size > 0 ? c.hidden_size : model.config().n_embd) {
  if (c.virtual_tokens < 1) throw std::invalid_argument("p-tuning: virtual_tokens must be >= 1");
  if (c.hidden_size < 0) throw std::invalid_argument("p-tuning: encoder hidden size must be >= 0");
  if (c.lstm_layers < 1) throw std::invalid_argument("p-tuning: LSTM layers must be >= 1");
  if (c.dropout < 0 || c.dropout >= 1)
    throw std::invalid_argument("p-tuning: dropout must be in [0, 1)");
  const int64_t C = model.config().n_embd, H = hidden_;
  torch::manual_seed(static_cast<int64_t>(seed));
  module_ = std::make_shared<nn::Module>();
  embedding_ = module_->register_module("embedding", nn::Embedding(c.virtual_tokens, C));
  if (c.encoder == peft::EncoderType::LSTM) {
    lstm_ = module_->register_module("lstm", nn::LSTM(nn::LSTMOptions(C, H)
                                                          .num_layers(c.lstm_layers)
                                                          .dropout(c.dropout)
                                                          .bidirectional(true)
                                                          .batch_first(true)));
    mlp_ = nn::Sequential(nn::Linear(2 * H, 2 * H), nn::ReLU(), nn::Linear(2 * H, C));
  } else {
    mlp_ = nn::Sequential(nn::Linear(C, H), nn::ReLU(), nn::Linear(H, H), nn::ReLU(),
                          nn::Linear(H, C));
  }
  module_->register_module("mlp", mlp_);
  module_->to(model.device());
}

std::vector<torch::Tensor> PromptEncoder::parameters() const {
  return module_->parameters();
}

torch::Tensor PromptEncoder::output(bool training) const {
  module_->train(training);
  torch::Tensor x = embedding_->weight;  // the embedding of indices 0..N-1, in order
  if (lstm_) x = std::get<0>(lstm_.ptr()->forward(x.unsqueeze(0))).squeeze(0);
  return mlp_.ptr()->forward(x);
}

void PromptEncoder::save(const std::string& dir, const LlamaConfig& model,
                         const std::string& base_model) const {
  peft::PromptLearningConfig c =
      artifact_config(peft::PeftType::P_TUNING, config_.virtual_tokens, base_model);
  c.encoder_reparameterization_type = config_.encoder;
  c.encoder_hidden_size = hidden_;
  c.encoder_num_layers = config_.lstm_layers;
  c.encoder_dropout = config_.dropout;
  torch::NoGradGuard no_grad;
  write_prompt_embeddings(dir, c, output(false), model);
}

}  // namespace ptune::methods
