// The continuations of one context as a token trie, and scoring every continuation's tokens
// after its first through that trie in batched forwards (the scorer's second step).
//
// Why: with many labels (BANKING77's 77 intents, most several tokens long, many sharing their
// first tokens: " card ...", " transfer ..."), scoring each continuation as its own row repeats
// the shared heads and copies the context's keys/values once per label. The trie feeds each
// distinct head once: node = a distinct prefix c[0..d-1] of some continuation that has a token
// after it (depth d >= 1), fed with token c[d-1]; all nodes of a context run as ONE row after
// the context's keys/values, each node attending to the context and to its trie ancestors only
// (ForwardArgs::tree_mask), at position (context length + d - 1). The next-token log-probs at a
// node give log p(c[d] | context, c[0..d-1]) for every continuation through it. Scores equal
// one forward per continuation to float rounding (tests/eval/scorer_test.cpp).
//
// Shapes: R = rows (contexts) in one forward, N = nodes of the largest trie, V = vocabulary.
#pragma once

#include <cstdint>
#include <vector>

#include "ptune/eval/scorer.h"

namespace ptune::eval::detail {

struct LabelTrie {
  std::vector<int32_t> token;   // per node: the token fed at it
  std::vector<int32_t> parent;  // per node: parent node, -1 under the context
  std::vector<int32_t> depth;   // per node: 1 + the parent's depth
  // per continuation: the node that predicts each token after the first (size = tokens - 1)
  std::vector<std::vector<int32_t>> path;

  static LabelTrie build(const std::vector<std::vector<int32_t>>& continuations);
  size_t size() const { return token.size(); }
};

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
