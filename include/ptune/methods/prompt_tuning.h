// Prompt tuning (Lester et al. 2021): N trainable virtual-token embeddings prepended to the input
// embeddings of a frozen model. Artifacts use PEFT's format (adapter_config.json with
// peft_type PROMPT_TUNING + adapter_model.safetensors holding `prompt_embeddings` [N, C]).
#pragma once

#include <torch/torch.h>

#include <string>

#include "ptune/methods/trainable.h"
#include "ptune/model/llama.h"
#include "ptune/tokenizer/tokenizer.h"

namespace ptune::methods {

class PromptTuning {
 public:
  // embeddings: [N, C] float32 (may require grad).
  explicit PromptTuning(torch::Tensor embeddings);

  // Loads a PEFT artifact directory; throws peft::PeftConfigError when it is not prompt tuning or
  // was made for a model of other dimensions.
  static PromptTuning load(const std::string& dir, const LlamaConfig& model);
  // Writes a PEFT artifact directory (PEFT loads it with PeftModel.from_pretrained).
  void save(const std::string& dir, const LlamaConfig& model, const std::string& base_model) const;

  struct Inputs {
    torch::Tensor embeds;  // [B, N + T, C]
    torch::Tensor mask;    // [B, N + T]
  };
  // For ids [B, T] and mask [B, T] (undefined = no padding): the virtual tokens go right before
  // each row's first real token, so under left padding the pads stay in front of them (PEFT puts
  // them before the pads, its issue #1093). Positions then count from the first virtual token.
  Inputs prepend(const LlamaModel& model, const torch::Tensor& ids,
                 const torch::Tensor& mask = {}) const;

  const torch::Tensor& embeddings() const { return embeddings_; }
  int64_t n_virtual() const { return embeddings_.size(0); }

 private:
  torch::Tensor embeddings_;
};

// How a soft prompt starts. PEFT's method comparison finds sampled vocabulary better than random.
enum class PromptInit {
  Random,       // N(0, std of the embedding table)
  SampleVocab,  // embedding rows of N random vocabulary ids
  Text,         // the embeddings of init_text's tokens, repeated to N (as PEFT does)
};

struct PromptTuningConfig {
  int64_t virtual_tokens = 20;
  PromptInit init = PromptInit::SampleVocab;
  std::string init_text;  // with PromptInit::Text
};

// Prompt tuning while it is learned: the N x C embeddings are the parameters.
class PromptEmbedding : public TrainablePrompt {
 public:
  // Initial embeddings per config.init, seeded. Throws std::invalid_argument for an init text that
  // encodes to no tokens or fewer than one virtual token.
  PromptEmbedding(const PromptTuningConfig& config, const LlamaModel& model,
                  const Tokenizer& tokenizer, uint64_t seed);

  Form form() const override { return Form::SoftPrompt; }
  std::vector<torch::Tensor> parameters() const override { return {embeddings_}; }
  torch::Tensor output(bool) const override { return embeddings_; }
  void save(const std::string& dir, const LlamaConfig& model,
            const std::string& base_model) const override;

 private:
  PromptTuningConfig config_;
  torch::Tensor embeddings_;  // [N, C], requires grad
};

// Keys/values [1, Hkv, N, D] per layer of N soft-prompt embeddings [N, C] at the start of a
// sequence: what a soft prompt contributes to every later token, so inference can treat it as a
// prefix. Runs without gradients.
PastKV soft_prompt_state(const LlamaModel& model, const torch::Tensor& embeddings);

}  // namespace ptune::methods
