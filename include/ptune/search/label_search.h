// Label search: verbalizer candidates found in the model's vocabulary and chosen on data, after
// AutoPrompt's label-token selection (Shin et al. 2020, section 2.2). AutoPrompt fits a logistic
// classifier on the [MASK] position's hidden state and keeps the tokens whose output embeddings
// score highest for each label; a causal LM already maps that state to every token's
// log-probability, so here the LM head is the classifier:
//
//   1. candidates: per label, its current words, its name's words (when the name has letters),
//      and the single-token words nearest to each of them in the model's input-embedding space
//      (cosine, LabelWords)
//   2. scores: lp[i][w] = log p(label_prefix + w | prompt of pool example i) under the start
//      prompt, for `examples_per_label` seeded pool examples of each label; one forward per
//      example (the words are continuations of one request, read from one distribution)
//   3. indicativeness s(l, w) = mean lp over examples of label l - mean lp over the others:
//      how much more likely w is when l is the answer
//   4. two verbalizers: "indicative" (each label its highest-s word among its plausible ones,
//      those within 3 nats of its likeliest candidate after its own examples, so that a rare
//      word's large log-prob swings do not win; labels with the clearest word choose first,
//      never a word another label took) and "fitted" (from the current words, one label's word
//      at a time replaced by the candidate that most raises the label-balanced mean
//      log-likelihood of the gold label among the labels' words, two passes); either is dropped
//      when it equals the current words or the other
// The search races them with the rest (search.h); the pool examples count against the budget.
// Tasks with more than `max_labels` labels are skipped (label search is for a few labels, as in
// AutoPrompt; intent names are better words than any single token).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ptune/search/candidate.h"
#include "ptune/search/objective.h"
#include "ptune/search/search_data.h"

namespace ptune::search {

// What a label search needs from a model (ModelObjective implements it; tests use fakes).
class LabelWords {
 public:
  virtual ~LabelWords() = default;
  // Up to n words whose single vocabulary token (a word start, letters only) is nearest the
  // mean input embedding of `text`'s tokens, nearest first; `text` itself excluded.
  virtual std::vector<std::string> neighbour_words(const std::string& text, size_t n) = 0;
  // out[i][j] = log p(label_prefix + words[j] | prompt of `c` for example indices[i] of split).
  virtual std::vector<std::vector<double>> word_log_probs(
      const Candidate& c, Split split, const std::vector<size_t>& indices,
      const std::vector<std::string>& words) = 0;
};

struct LabelSearchOptions {
  size_t neighbours = 24;          // embedding neighbours per seed word
  size_t examples_per_label = 16;  // pool examples scored per label
  size_t max_labels = 16;
  uint64_t seed = 0;
};

struct LabelSearchResult {
  // Per verbalizer, per label (the task's order), its one word; "indicative" then "fitted"
  // (dropped when equal to the first). Empty when skipped.
  std::vector<std::vector<std::vector<std::string>>> verbalizers;
  std::vector<std::string> origins;  // "verbalizer: label search (indicative)", ...
  size_t examples = 0;               // pool examples scored
};

// Label search for `task` (classification) from candidate `start`. Charges the scored pool
// examples to `evals`. Skips (empty result) when the task has more than max_labels labels or a
// label has no pool example.
LabelSearchResult search_label_words(const tasks::TaskSpec& task, const SearchData& data,
                                     const Candidate& start, LabelWords& model, Evaluations& evals,
                                     const LabelSearchOptions& options);

// Step 3-4 on given scores, for tests: lp[i][w] for examples with gold label index gold[i];
// candidates[l] are label l's candidate word indices into the columns of lp, its current word
// first. An empty choice: no verbalizer without a word shared by two labels.
struct WordChoice {
  std::vector<size_t> indicative, fitted;  // per label: a column of lp
};
WordChoice choose_label_words(const std::vector<std::vector<double>>& lp,
                              const std::vector<size_t>& gold,
                              const std::vector<std::vector<size_t>>& candidates);

}  // namespace ptune::search
