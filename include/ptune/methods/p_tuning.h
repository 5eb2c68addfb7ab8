// P-tuning (Liu et al. 2021, "GPT Understands, Too"): N virtual-token embeddings passed through a
// small prompt encoder (an MLP, or a bidirectional LSTM followed by an MLP) before they are
// prepended to the input embeddings. The encoder couples the virtual tokens and eases
// optimisation; at inference only its output matters, so the PEFT artifact (peft_type P_TUNING)
// holds that output as `prompt_embeddings` [N, C] and loads like a prompt-tuning one.
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

#include "ptune/io/peft_config.h"
#include "ptune/methods/trainable.h"
#include "ptune/model/llama.h"

namespace ptune::methods {

struct PTuningConfig {
  int64_t virtual_tokens = 20;
  peft::EncoderType encoder = peft::EncoderType::MLP;
  int64_t hidden_size = 0;  // H; 0 = the model's hidden size (PEFT's default)
  int64_t lstm_layers = 2;  // LSTM only (PEFT's encoder_num_layers)
  double dropout = 0.0;     // between LSTM layers (PEFT's encoder_dropout)
};

class PromptEncoder : public TrainablePrompt {
 public:
  // Seeded initialisation, on the model's device. Throws std::invalid_argument for bad sizes.
  PromptEncoder(const PTuningConfig& config, const LlamaModel& model, uint64_t seed);

  Form form() const override { return Form::SoftPrompt; }
  std::vector<torch::Tensor> parameters() const override;
  torch::Tensor output(bool training) const override;  // [N, C]
  void save(const std::string& dir, const LlamaConfig& model,
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
