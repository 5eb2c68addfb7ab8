// A set of continuations (label verbalizations) as a token trie: what the scorer runs to score
// many multi-token labels after one context, and what the trainer's sequence loss runs to train
// on them.
//
// Node = a distinct prefix c[0..d-1] of some continuation that has a token after it (depth
// d >= 1), fed with token c[d-1]: shared heads (" card" in " card arrival", " card linking")
// are fed once. Run after the context with each node attending to the context and to its trie
// ancestors only, at position (context length + d - 1), the next-token log-probs at a node give
// log p(c[d] | context, c[0..d-1]) for every continuation through it; a continuation's first
// token is read at the context's last position.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ptune::eval {

struct LabelTrie {
  std::vector<int32_t> token;   // per node: the token fed at it
  std::vector<int32_t> parent;  // per node: parent node, -1 under the context
  std::vector<int32_t> depth;   // per node: 1 + the parent's depth
  // per continuation: the node that predicts each token after the first (size = tokens - 1)
  std::vector<std::vector<int32_t>> path;

  static LabelTrie build(const std::vector<std::vector<int32_t>>& continuations);
  size_t size() const { return token.size(); }
};

}  // namespace ptune::eval
