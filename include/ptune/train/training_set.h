// A task's training split as token ids, and batches of it as model inputs: what every gradient
// method (soft prompts now; hard-prompt search later) trains on.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ptune/tasks/task.h"
#include "ptune/tokenizer/tokenizer.h"

namespace ptune::train {

struct TrainingSet {
  struct Item {
    std::vector<int32_t> context;  // the formatted prompt (chat template applied)
    int64_t label = -1;            // classification: index into the labels
    std::vector<int32_t> target;   // generation / qa: the tokens to learn after the context
  };
  std::vector<Item> items;
  bool lm_loss = false;        // generation / qa
  torch::Tensor label_tokens;  // classification: each label's first token [n_labels] int64

  // Renders, formats and tokenizes every example. Throws std::invalid_argument for a task type
  // the tuner does not train (multiple choice), soft slots in the template, or labels whose
  // first tokens collide.
  static TrainingSet build(const tasks::TaskSpec& task, const std::vector<tasks::Example>& split,
                           const Tokenizer& tokenizer, const std::string& template_name);

  std::vector<int64_t> lengths() const;  // context + target tokens per item
};

// One right-padded batch.
struct BatchInputs {
  // [1, S] int64: the first S tokens every row shares (the template's instruction, the chat
  // template's system turn), removed from `ids`, so a batch runs them once. S = 0 unless
  // collate() was asked to share; it leaves every row at least its last context token.
  torch::Tensor shared;
  torch::Tensor ids;        // [B, T] int64
  torch::Tensor mask;       // [B, T] int64
  torch::Tensor labels;     // classification: [B] label indices
  torch::Tensor positions;  // LM: [B, K] positions (in ids) whose logits predict the targets
  torch::Tensor targets;    // LM: [B, K] target ids, -100 where a row has fewer than K
};

// The inputs are context + target minus its last token: position p predicts token p + 1
// (positions count from the first token after `shared`).
BatchInputs collate(const TrainingSet& set, const std::vector<int64_t>& indices,
                    bool share_prefix = false);

}  // namespace ptune::train
