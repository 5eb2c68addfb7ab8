// Scoring every continuation's tokens after its first through the label trie
// (include/ptune/eval/label_trie.h) in batched forwards: the scorer's second step.
//
// Why: with many labels (BANKING77's 77 intents, most several tokens long, many sharing their
// first tokens: " card ...", " transfer ..."), scoring each continuation as its own row repeats
// the shared heads and copies the context's keys/values once per label. All nodes of a context
// run as ONE row after the context's keys/values (ForwardArgs::tree_mask). Scores equal one
// forward per continuation to float rounding (tests/eval/label_trie_test.cpp).
//
// Shapes: R = rows (contexts) in one forward, N = nodes of the largest trie, V = vocabulary.
#pragma once

#include <cstdint>
#include <vector>

#include "ptune/eval/label_trie.h"
#include "ptune/eval/scorer.h"

namespace ptune::eval::detail {

using eval::LabelTrie;

// One context of a batch whose continuations need their later tokens scored.
struct TrieRow {
  int64_t batch_row;  // its row in the first forward's keys/values
  int64_t length;     // real positions before the trie (past + context tokens)
  const ScoreRequest* request;
  std::vector<ContinuationScore>* out;  // token_logprobs[0] already set; the rest appended
  LabelTrie trie;
};

// Scores the rows' tries after `state` (the first forward's keys/values, [B, Hkv, S, D]) under
// `mask` [B, S] (cpu): rows chunked so one forward computes at most `node_budget` nodes' logits
// (a large trie alone still runs). Counts forwards and tokens into `stats`.
void score_tries(const Model& model, const PastKV& state, const torch::Tensor& mask,
                 std::vector<TrieRow>& rows, int64_t node_budget, ScorerStats& stats);

}  // namespace ptune::eval::detail
