// Successive halving (Jamieson & Talwalkar 2016) over prompt candidates ("arms"): every arm is
// scored on the first `first` examples of the search split, the best 1/eta go on to eta times as
// many examples (the same examples plus new ones, so earlier scores are reused), until `keep`
// arms are left or the split is used up. Cheap arms are dropped early; the survivors are compared
// on enough examples to tell them apart.
//
// Rankings are by mean score, best first; equal means keep the lower arm index, so arm 0 (the
// start prompt) wins ties and the order never depends on anything but the scores.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

namespace ptune::search {

struct HalvingOptions {
  size_t first = 16;        // examples in the first rung
  size_t eta = 2;           // each rung keeps 1/eta of the arms on eta times the examples
  size_t keep = 3;          // stop when this many arms (or fewer) are left
  size_t max_examples = 0;  // the search split's size
};

struct Rung {
  size_t examples = 0;        // each arm's score is its mean on the first `examples`
  std::vector<size_t> arms;   // ranked, best first
  std::vector<double> means;  // of arms[i]
};

struct HalvingResult {
  std::vector<Rung> rungs;
  bool budget_stop = false;  // a rung was not run because it would not fit the budget
  // The last rung's arms, best first.
  const std::vector<size_t>& ranking() const { return rungs.back().arms; }
};

// `mean_of(arm, n)`: the arm's mean score on the first n search examples. `affordable(cost)`:
// whether `cost` more example evaluations (an upper bound: cached ones cost nothing) fit the
// budget; the first rung always runs. Throws std::invalid_argument for no arms, eta < 2, keep or
// first 0, or max_examples < first.
HalvingResult successive_halving(size_t arms, const HalvingOptions& options,
                                 const std::function<double(size_t arm, size_t n)>& mean_of,
                                 const std::function<bool(size_t cost)>& affordable);

// The first-rung size and the number of arms a budget of `budget` example evaluations pays for
// with these options: about budget / (first * (1 + rungs / eta)), at least 2 arms.
size_t arms_for_budget(size_t budget, const HalvingOptions& options);

}  // namespace ptune::search
