// What `ptune search` scores candidates with, and the budget and journal around it.
//
//   Objective    per-example scores of a candidate on examples of one split (higher is better:
//                accuracy as 0/1, or a per-example text metric), and the content key of each
//                (model, prompt, scoring settings, example) the journal stores them under.
//                ModelObjective (model_objective.h) runs ptune eval's code; tests use synthetic
//                ones.
//   Evaluations  the journaled, counted view the search calls: a score the journal has is never
//                computed again; every distinct example evaluation this run asks for counts
//                against the budget whether or not the journal had it, so a resumed run makes
//                exactly the decisions the uninterrupted one made.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_set>
#include <vector>

#include "ptune/search/candidate.h"
#include "ptune/search/journal.h"

namespace ptune::search {

// The four disjoint sets of examples a search uses (search_data.h makes them).
//   Pool    demos are drawn from it (and bootstrapped demos are scored on it)
//   Search  the minibatches successive halving races candidates on
//   Dev     the finalists' selection
//   Test    the acceptance test of the winner against the start, used once
enum class Split { Pool, Search, Dev, Test };
const char* to_string(Split s);

class Objective {
 public:
  virtual ~Objective() = default;
  virtual size_t size(Split split) const = 0;
  // The content key of each example `indices` of `split` under `c`.
  virtual std::vector<std::string> keys(const Candidate& c, Split split,
                                        const std::vector<size_t>& indices) = 0;
  // Their scores; called only with examples the journal does not hold.
  virtual std::vector<double> evaluate(const Candidate& c, Split split,
                                       const std::vector<size_t>& indices) = 0;
  // The mean length in tokens of the prompts of `c` for those examples (what a prompt costs per
  // call, for the leaderboard); 0 when the objective cannot say. Not a scored evaluation.
  virtual double mean_prompt_tokens(const Candidate& /*c*/, Split /*split*/,
                                    const std::vector<size_t>& /*indices*/) {
    return 0;
  }
};

class Evaluations {
 public:
  Evaluations(Objective& objective, Journal& journal) : objective_(objective), journal_(journal) {}

  // Scores of `c` on examples `indices` of `split`, in that order.
  std::vector<double> scores(const Candidate& c, Split split, const std::vector<size_t>& indices);
  // The mean score on the first n examples of `split`.
  double mean(const Candidate& c, Split split, size_t n);

  // Example evaluations made outside scores() (label search's forwards): counted as they are,
  // and the same in a resumed run, which recomputes them.
  void charge(Split split, size_t n) { spent_[static_cast<size_t>(split)] += n; }

  Objective& objective() { return objective_; }
  Journal& journal() { return journal_; }
  // Distinct example evaluations this run asked for on `split`, and on all but Test (what a
  // budget counts).
  size_t spent(Split split) const { return spent_[static_cast<size_t>(split)]; }
  size_t spent_on_search() const;
  size_t computed() const { return computed_; }  // of them, computed by this process
  size_t replayed() const { return replayed_; }  // of them, read back from the journal

 private:
  Objective& objective_;
  Journal& journal_;
  std::unordered_set<std::string> asked_;
  size_t spent_[4] = {0, 0, 0, 0};
  size_t computed_ = 0, replayed_ = 0;
};

}  // namespace ptune::search
