// A task's training split as token ids, and batches of it as model inputs: what every gradient
// method (soft prompts now; hard-prompt search later) trains on.
//
// Losses (TrainingSet::loss; generation and qa tasks always train with Lm):
//   first-token  cross-entropy at the last prompt position over the labels' first tokens only
//                (logits restricted to them). Cheapest; needs distinct first tokens.
//   sequence     cross-entropy over every label's whole continuation score, the same sum or mean
//                log-prob rank classification ranks by at eval time, so labels that share first
//                tokens (" card arrival", " card linking") are told apart. All continuations of
//                a row run in one forward after its context as a token trie (tree mask): shared
//                heads are fed once, each node attends to the context and its ancestors only.
//   lm           LM cross-entropy on the gold label's tokens only (Hugging Face PEFT's recipe):
//                no other label is scored, so it is as cheap as first-token with any labels.
//   auto         first-token when the labels' first tokens are distinct, else sequence.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ptune/eval/label_trie.h"
#include "ptune/tasks/task.h"
#include "ptune/tokenizer/tokenizer.h"

namespace ptune::train {

enum class Loss { Auto, FirstToken, Sequence, Lm };

// "auto", "first-token", "sequence", "lm".
const char* loss_name(Loss loss);
// Throws std::invalid_argument naming the accepted names.
Loss loss_from_name(const std::string& name);

// The sequence loss's view of a classification task's labels (the same for every example): each
// label's continuations and their token trie.
struct LabelContinuations {
  std::vector<std::vector<int32_t>> tokens;  // [J] each continuation's token ids
  std::vector<int64_t> label;                // [J] the label each one verbalizes
  int64_t n_labels = 0;
  bool mean = false;  // a label scores the mean log-prob of its tokens (task "mean"), else the sum
  eval::LabelTrie trie;
};

struct TrainingSet {
  struct Item {
    std::vector<int32_t> context;  // the formatted prompt (chat template applied)
    int64_t label = -1;            // classification: index into the labels
    std::vector<int32_t> target;   // lm loss: the tokens to learn after the context
  };
  std::vector<Item> items;
  Loss loss = Loss::FirstToken;  // resolved: never Auto
  torch::Tensor label_tokens;    // first-token: each label's first token [n_labels] int64
  LabelContinuations labels;     // sequence

  // Renders, formats and tokenizes every example. Throws std::invalid_argument for a task type
  // the tuner does not train (multiple choice), soft slots in the template, a classification
  // loss asked of a generation task, or first-token asked of labels whose first tokens collide
  // (naming the two labels).
  static TrainingSet build(const tasks::TaskSpec& task, const std::vector<tasks::Example>& split,
                           const Tokenizer& tokenizer, const std::string& template_name,
                           Loss loss = Loss::Auto);

  bool lm() const { return loss == Loss::Lm; }
  // Tokens each item's forward runs: context + target, or + the trie's nodes.
  std::vector<int64_t> lengths() const;
};

// One right-padded batch.
struct BatchInputs {
  // [1, S] int64: the first S tokens every row shares (the template's instruction, the chat
  // template's system turn), removed from `ids`, so a batch runs them once. S = 0 unless
  // collate() was asked to share; it leaves every row at least its last context token.
  torch::Tensor shared;
  torch::Tensor ids;        // [B, T] int64
  torch::Tensor mask;       // [B, T] int64
  torch::Tensor labels;     // first-token, sequence: [B] label indices
  torch::Tensor positions;  // lm: [B, K] positions (in ids) whose logits predict the targets;
                            // sequence: [B, 1 + N] the context's last position, then the nodes'
  torch::Tensor targets;    // lm: [B, K] target ids, -100 where a row has fewer than K
  // sequence: each row is its context then the trie's N nodes. [B, T, T] bool: which tokens of
  // the row each token attends to; [B, T] int64 positions counted from the first token after
  // `shared` (a node sits at context length + depth - 1).
  torch::Tensor tree;
  torch::Tensor position_ids;
};

// The inputs are context + target minus its last token: position p predicts token p + 1
// (positions count from the first token after `shared`).
BatchInputs collate(const TrainingSet& set, const std::vector<int64_t>& indices,
                    bool share_prefix = false);

// The sequence loss's label scores from the logits at BatchInputs::positions: [B, 1 + N, V] ->
// [B, n_labels], each label the max over its continuations of the sum (or mean) of their token
// log-probs, as rank classification scores labels.
torch::Tensor label_scores(const LabelContinuations& labels, const torch::Tensor& logits);

}  // namespace ptune::train
