// Log-probabilities of continuations after contexts: the engine of rank classification
// (classification, multiple choice), of the NLL of reference answers, and of the rubric judge.
//
// Fast path (ContinuationScorer::score), all under torch::InferenceMode:
//   1. Shared prefix. The token contexts are grouped by their longest common token prefix
//      (the instruction + fixed demos); each group's prefix goes through the model ONCE and its
//      keys/values are expanded over the batch for every batch of that group. The prefix is cut
//      in token space (a common prefix of the token sequences each context tokenized to), so it
//      is by construction a token boundary shared by every member, and it always leaves at least
//      one suffix token per context.
//   2. One state per context. Suffixes are sorted by length and batched (right padding + mask).
//      One forward gives the full-vocabulary log-probs at each context's last token (the first
//      token of every continuation) and, only when some continuation has more tokens, the
//      batch's keys/values.
//   3. One trie per context (src/eval/label_trie.h). The continuations' later tokens: each
//      distinct head (shared first tokens of many labels) is fed once, all of a context's heads
//      in one row after its keys/values with a tree attention mask; rows batched up to a node
//      budget. The work grows with the distinct heads, not with labels x tokens, and no
//      context's keys/values are copied per label.
//   Log-probs are normalised over the full vocabulary (log_softmax), so scores are true
//   log-probabilities and equal score_naive's (one plain forward per context + continuation).
//
// Shapes: B = batch rows, P = prefix tokens, T = suffix tokens, V = vocabulary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <vector>

#include "ptune/model/model.h"

namespace ptune::eval {

// One context and the continuations to score after it.
struct ScoreRequest {
  std::vector<int32_t> context;                     // prompt ids (BOS included if any); non-empty
  std::vector<std::vector<int32_t>> continuations;  // each non-empty
};

struct ContinuationScore {
  std::vector<double> token_logprobs;  // log p(token_t | context, tokens_<t), natural log
  double sum() const;
  double mean() const;  // sum / tokens
};

// Keys/values of shared prefixes kept across score() calls (ScorerOptions::prefixes). `ptune
// search` scores many candidates whose prompts begin alike (the same instruction and demos under
// another verbalizer, calibration or normalization; the next rung of the same candidate), and
// each such prefix then runs once. An entry is an exact (adapter, prefix ids) pair; the least
// recently used leave first past the byte budget. One thread at a time.
class PrefixMemo {
 public:
  explicit PrefixMemo(int64_t budget_bytes = int64_t{256} << 20) : budget_(budget_bytes) {}
  // The keys/values of `ids` after `base` (compute_prefix), computed on a miss. `computed` says
  // which.
  PastKV get(const Model& model, const std::vector<int32_t>& ids, const PastKV* base,
             bool* computed = nullptr);
  size_t hits() const { return hits_; }
  size_t misses() const { return misses_; }
  int64_t bytes() const { return bytes_; }

 private:
  struct Entry {
    const PastKV* base;
    std::vector<int32_t> ids;
    PastKV kv;
    int64_t bytes;
  };
  int64_t budget_;
  int64_t bytes_ = 0;
  size_t hits_ = 0, misses_ = 0;
  std::list<Entry> entries_;  // most recently used first
};

struct ScorerOptions {
  int batch_size = 16;       // contexts per forward
  bool prefix_cache = true;  // false: every context runs in full (still batched)
  int64_t min_prefix = 8;    // shorter common prefixes are not worth a separate forward
  // Keys/values prepended to every context, [1, Hkv, A, D] per layer: a prompt adapter's virtual
  // tokens (methods::PromptArtifact::state). Not owned; null = none.
  const PastKV* base = nullptr;
  // Trie nodes whose logits one forward of step 3 computes (0 = as many as keep those logits
  // under 64 MiB of floats); a context's trie larger than this still runs, alone.
  int64_t trie_nodes = 0;
  // Shared prefixes kept across calls; not owned; null = each call computes its own.
  PrefixMemo* prefixes = nullptr;
};

// Statistics of the last score() call (for logs and the bench).
struct ScorerStats {
  size_t groups = 0;          // prefix groups (1 when every context shares the prefix)
  int64_t prefix_tokens = 0;  // tokens computed once per group, summed over groups
  int64_t prefix_reused = 0;  // prefix tokens a PrefixMemo had (not computed)
  int64_t suffix_tokens = 0;  // real (unpadded) suffix tokens run
  int64_t padded_tokens = 0;  // suffix tokens run including padding
  size_t forwards = 0;        // model forward calls
};

// Called after each finished batch with the number of requests done so far.
using ScoreProgress = std::function<void(size_t done)>;

class ContinuationScorer {
 public:
  explicit ContinuationScorer(const Model& model, ScorerOptions options = {});

  // result[i][j] scores requests[i].continuations[j]. Throws std::invalid_argument for an empty
  // context or continuation, or a token id outside the vocabulary.
  std::vector<std::vector<ContinuationScore>> score(const std::vector<ScoreRequest>& requests,
                                                    const ScoreProgress& progress = nullptr);
  const ScorerStats& stats() const { return stats_; }

 private:
  const Model& model_;
  ScorerOptions opt_;
  ScorerStats stats_;
};

// The reference: one plain forward over context + continuation per (request, continuation).
std::vector<std::vector<ContinuationScore>> score_naive(const Model& model,
                                                        const std::vector<ScoreRequest>& requests);

// Length of the longest common prefix of all sequences (0 for none).
size_t common_prefix_length(const std::vector<const std::vector<int32_t>*>& seqs);

// Groups contexts for prefix sharing: each group is {prefix length, member indexes}. A group's
// prefix is common to its members and shorter than each of them. Greedy: the median context (in
// token order) anchors a group whose prefix maximises prefix length x members; repeat on the
// rest. Deterministic.
struct PrefixGroup {
  size_t prefix = 0;
  std::vector<size_t> members;
};
std::vector<PrefixGroup> group_by_prefix(const std::vector<std::vector<int32_t>>& contexts,
                                         int64_t min_prefix);

// Runs the prefix ids [P] through the model after `base` (if any); keys/values
// [1, Hkv, A + P, D] per layer. With no ids it returns `base` itself.
PastKV compute_prefix(const Model& model, const std::vector<int32_t>& ids,
                      const PastKV* base = nullptr);
// compute_prefix through `memo` when one is given (null: computed here). `computed` says whether
// the model ran (never for empty ids).
PastKV shared_prefix(const Model& model, const std::vector<int32_t>& ids, const PastKV* base,
                     PrefixMemo* memo, bool* computed = nullptr);

}  // namespace ptune::eval
