// `ptune search` as a library call: find a better instruction, demos, verbalizer, calibration and
// normalization for a task, and accept the result only when a paired test says it is better.
//
// Flow (every choice seeded; every score through Evaluations, so journaled and budgeted):
//   1. candidates: the start (the task as it is), then one change at a time (each instruction:
//      the user's, phrase edits, APE and paraphrases from a proposer; each demo set: k shots at
//      random, bootstrapped (pool examples the start gets right), "similar"; the label names and,
//      given a LabelWords model, label search's words as verbalizer (label_search.h);
//      calibration flipped; the other normalization), then random combinations of
//      them, as many as the budget pays for (halving.h: arms_for_budget)
//   2. round 1: successive halving on the search split
//   3. round 2: the round's best refined (edits of its instruction, OPRO from the scored history,
//      its demos reordered, calibration flipped) and raced with round 1's survivors
//   4. selection: the survivors and the start on the whole dev split; the best dev mean wins
//      (the start wins ties)
//   5. acceptance: start and winner on the test split, once; the winner replaces the start only
//      if its gain is positive and the paired test's p-value is below `alpha` (McNemar for 0/1
//      scores, else the paired bootstrap)
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ptune/eval/metrics/paired.h"
#include "ptune/search/candidate.h"
#include "ptune/search/halving.h"
#include "ptune/search/label_search.h"
#include "ptune/search/objective.h"
#include "ptune/search/proposer.h"
#include "ptune/search/search_data.h"

namespace ptune::search {

struct SearchOptions {
  size_t budget = 1500;  // example evaluations on pool + search + dev (test is extra, 2 x test)
  uint64_t seed = 0;
  HalvingOptions halving;  // max_examples is set from the search split
  // Which parts vary.
  bool vary_instruction = true, vary_demos = true, vary_verbalizer = true, vary_calibration = true,
       vary_normalize = true;
  std::vector<std::string> instructions;  // the user's candidates (--instructions FILE)
  std::vector<size_t> shots = {2, 4};     // k of random and bootstrapped demo sets
  size_t demo_sets = 2;                   // random sets per k
  size_t edits = 4;                       // phrase edits per round
  size_t proposals = 3;                   // per kind of proposer question, when one is given
  size_t max_arms = 48;
  LabelSearchOptions label_search;  // its seed is set from `seed`
  double alpha = 0.05;
  size_t bootstrap_resamples = 1000;
};

struct Entry {
  Candidate candidate;
  std::string id;
  int round = 1;
  size_t examples = 0;  // search examples of the last rung it reached
  double search_mean = 0;
  double tokens = 0;  // mean prompt tokens on the first search examples (0 = not known)
  std::optional<eval::ConfidenceInterval> dev;  // finalists only
};

struct SearchResult {
  std::vector<Entry> leaderboard;  // dev finalists first (best dev first), then by search mean
  Candidate start, best;           // best: the dev winner
  bool accepted = false;           // best replaces start
  bool best_is_start = false;
  eval::PairedComparison test;                     // best (b) vs start (a) on the test split
  eval::ConfidenceInterval test_start, test_best;  // each one's test mean with its 95% CI
  double p_value = 1;                              // the one the decision used
  std::string test_name;                           // "mcnemar" or "bootstrap"
  std::string verdict;                             // one sentence
  size_t spent = 0;                                // example evaluations on pool + search + dev
  size_t spent_test = 0;
  size_t computed = 0, replayed = 0;
  size_t dev_examples = 0;
  size_t over_budget = 0;  // candidates made but not raced: their first rung did not fit
  ProposalStats proposals;
  const Candidate& chosen() const { return accepted ? best : start; }
};

// Progress: called after each stage with {"step", "stage", "budget" (spent), "best"}.
using StepCallback = std::function<void(const nlohmann::json&)>;

// Throws std::invalid_argument for options the task cannot take (no part left to vary, a search
// split smaller than the first rung) and what the objective throws.
// `proposer` and `label_words` may be null (no model-proposed instructions, no label search).
SearchResult run_search(const tasks::TaskSpec& task, const SearchData& data, Evaluations& evals,
                        Proposer* proposer, LabelWords* label_words, const SearchOptions& options,
                        const StepCallback& on_step = nullptr);

// The dev examples the finalists are compared on when the user sets no limit: all of them, or
// as many as keep that comparison ((keep + 1) candidates) within half the budget, at least 20.
size_t auto_dev_limit(size_t dev_size, const SearchOptions& options);

// The budget a preset names: light 1500, medium 5000, heavy 15000 example evaluations; a number
// is itself. Throws std::invalid_argument for anything else.
size_t parse_budget(const std::string& text);

}  // namespace ptune::search
