// P-tuning's prompt encoder; contract in ptune/methods/p_tuning.h.
#include <stdexcept>

#include "methods/p_tuning/peft_keys.h"
#include "methods/peft_artifact.h"
#include "ptune/methods/p_tuning.h"

namespace ptune::methods {

namespace nn = torch::nn;

PromptEncoder::PromptEncoder(const PTuningConfig& c, const Model& model, uint64_t seed)
    : config_(c), hidden_(c.hidden_size > 0 ? c.hidden_size : model.config().n_embd) {
  c.validate();
  const int64_t C = model.config().n_embd, H = hidden_;
  torch::manual_seed(static_cast<int64_t>(seed));
  module_ = std::make_shared<nn::Module>();
  embedding_ = module_->register_module("embedding", nn::Embedding(c.virtual_tokens, C));
  if (c.encoder == "lstm") {
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

PastKV PromptEncoder::state(const Model& model, bool training) const {
  return soft_prompt_state(model, output(training));
}

void PromptEncoder::save(const std::string& dir, const ModelConfig& model,
                         const std::string& base_model) const {
  peft::PromptLearningConfig c = artifact_config("P_TUNING", config_.virtual_tokens, base_model);
  PTuningPeftKeys keys;
  keys.encoder = config_.encoder == "lstm" ? "LSTM" : "MLP";
  keys.encoder_hidden_size = hidden_;
  keys.encoder_num_layers = config_.lstm_layers;
  keys.encoder_dropout = config_.dropout;
  write_p_tuning_keys(c, keys);
  torch::NoGradGuard no_grad;
  write_prompt_embeddings(dir, c, output(false), model);
}

}  // namespace ptune::methods
