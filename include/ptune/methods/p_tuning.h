// P-tuning (Liu et al. 2021, "GPT Understands, Too"): N virtual-token embeddings passed through a
// small prompt encoder (an MLP, or a bidirectional LSTM followed by an MLP) before they go in
// front of the input. The encoder couples the virtual tokens and eases optimisation; at
// inference only its output matters, so the PEFT artifact (peft_type P_TUNING) holds that output
// as `prompt_embeddings` [N, C] and loads as a fixed soft prompt. Registered as "p-tuning".
//
// The encoder is PEFT's PromptEncoder, layer for layer:
//   MLP:  Embedding(N, C) -> Linear(C, H) ReLU Linear(H, H) ReLU Linear(H, C)
//   LSTM: Embedding(N, C) -> biLSTM(C -> H, layers, dropout) -> Linear(2H, 2H) ReLU Linear(2H, C)
// with PyTorch's default initialisation (embedding N(0, 1)).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ptune/methods/registry.h"
#include "ptune/methods/trainable.h"
#include "ptune/model/model.h"

namespace ptune::methods {

struct PTuningConfig : MethodConfig {
  int64_t virtual_tokens = 20;
  std::string encoder = "mlp";  // mlp | lstm
  int64_t hidden_size = 0;      // H; 0 = the model's hidden size (PEFT's default)
  int64_t lstm_layers = 2;      // LSTM only (PEFT's encoder_num_layers)
  double dropout = 0.0;         // between LSTM layers (PEFT's encoder_dropout)

  void describe(ConfigFields& fields) override;
  void validate() const override;
  void validate_for(const ModelConfig& model) const override;
  double default_lr() const override { return 3e-3; }
};

class PromptEncoder : public TrainablePrompt {
 public:
  // Seeded initialisation, on the model's device. Throws std::invalid_argument for bad sizes.
  PromptEncoder(const PTuningConfig& config, const Model& model, uint64_t seed);

  std::vector<torch::Tensor> parameters() const override;
  torch::Tensor output(bool training) const override;  // [N, C]
  PastKV state(const Model& model, bool training) const override;
  int64_t n_virtual() const override { return config_.virtual_tokens; }
  void save(const std::string& dir, const ModelConfig& model,
            const std::string& base_model) const override;

 private:
  PTuningConfig config_;
  int64_t hidden_ = 0;
  // Held by a plain Module so that parameters() and train/eval work the libtorch way.
  std::shared_ptr<torch::nn::Module> module_;
  torch::nn::Embedding embedding_{nullptr};
  torch::nn::LSTM lstm_{nullptr};
  torch::nn::Sequential mlp_{nullptr};
};

}  // namespace ptune::methods
