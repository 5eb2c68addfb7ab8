// Prompt tuning (Lester et al. 2021): N trainable virtual-token embeddings before the input of a
// frozen model. Artifacts use PEFT's format (adapter_config.json with peft_type PROMPT_TUNING +
// adapter_model.safetensors holding `prompt_embeddings` [N, C]). Registered as "prompt-tuning"
// (src/methods/prompt_tuning/register.cpp).
#pragma once

#include <torch/torch.h>

#include <string>

#include "ptune/methods/registry.h"
#include "ptune/methods/trainable.h"
#include "ptune/model/model.h"
#include "ptune/tokenizer/tokenizer.h"

namespace ptune::methods {

struct PromptTuningConfig : MethodConfig {
  int64_t virtual_tokens = 20;
  // How the prompt starts. PEFT's method comparison finds sampled vocabulary better than random.
  //   random  N(0, std of the embedding table)
  //   vocab   embedding rows of N random vocabulary ids
  //   text    the embeddings of init_text's tokens, repeated to N (as PEFT does)
  std::string init = "vocab";
  std::string init_text;  // with init "text"

  void describe(ConfigFields& fields) override;
  void validate() const override;
  void validate_for(const ModelConfig& model) const override;
  double default_lr() const override { return 3e-2; }  // PEFT's prompt-tuning docs
};

// A soft prompt: trained (the N x C embeddings are the parameters) or loaded (fixed).
class PromptEmbedding : public TrainablePrompt {
 public:
  // Initial embeddings per config.init, seeded, on the model's device. Throws
  // std::invalid_argument for an init text that encodes to no tokens.
  PromptEmbedding(const PromptTuningConfig& config, const Model& model, const Tokenizer& tokenizer,
                  uint64_t seed);
  // Fixed embeddings [N, C] (a loaded artifact); nothing to train.
  explicit PromptEmbedding(torch::Tensor embeddings);

  std::vector<torch::Tensor> parameters() const override;
  torch::Tensor output(bool) const override { return embeddings_; }
  PastKV state(const Model& model, bool training) const override;
  int64_t n_virtual() const override { return embeddings_.size(0); }
  void save(const std::string& dir, const ModelConfig& model,
            const std::string& base_model) const override;

 private:
  PromptTuningConfig config_;
  bool trainable_ = false;
  torch::Tensor embeddings_;  // [N, C]
};

// A saved soft prompt (PEFT's `prompt_embeddings` [N, C] of an artifact of `peft_type`:
// PROMPT_TUNING, or P_TUNING, whose artifact holds the encoder's output), fixed, for inference.
std::unique_ptr<TrainablePrompt> load_soft_prompt(const std::string& dir,
                                                  const std::string& peft_type, const Model& model);

// PEFT's way to apply a soft prompt, kept as the reference the past-state path is tested
// against: for ids [B, T] and mask [B, T] (undefined = no padding) the embeddings [N, C] go right
// before each row's first real token, so under left padding the pads stay in front of them
// (PEFT puts them before the pads, its issue #1093). Positions then count from the first virtual
// token. Returns input embeddings [B, N + T, C] and the mask [B, N + T].
struct PrependedInputs {
  torch::Tensor embeds;
  torch::Tensor mask;
};
PrependedInputs prepend_soft_prompt(const Model& model, const torch::Tensor& embeddings,
                                    const torch::Tensor& ids, const torch::Tensor& mask = {});

}  // namespace ptune::methods
