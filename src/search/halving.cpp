// Successive halving; contract in include/ptune/search/halving.h.
#include "ptune/search/halving.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace ptune::search {
namespace {

Rung run_rung(const std::vector<size_t>& alive, size_t n,
              const std::function<double(size_t, size_t)>& mean_of) {
  std::vector<std::pair<double, size_t>> scored;
  for (size_t arm : alive) scored.emplace_back(mean_of(arm, n), arm);
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  Rung r;
  r.examples = n;
  for (const auto& [mean, arm] : scored) {
    r.arms.push_back(arm);
    r.means.push_back(mean);
  }
  return r;
}

size_t rung_count(const HalvingOptions& o) {
  size_t rungs = 1;
  for (size_t n = o.first; n < o.max_examples; n *= o.eta) ++rungs;
  return rungs;
}

}  // namespace

HalvingResult successive_halving(size_t arms, const HalvingOptions& o,
                                 const std::function<double(size_t, size_t)>& mean_of,
                                 const std::function<bool(size_t)>& affordable) {
  if (arms == 0) throw std::invalid_argument("successive halving: no candidates");
  if (o.eta < 2) throw std::invalid_argument("successive halving: eta must be at least 2");
  if (o.keep == 0 || o.first == 0)
    throw std::invalid_argument("successive halving: keep and first must be > 0");
  if (o.max_examples < o.first) {
    throw std::invalid_argument("successive halving: the search split has " +
                                std::to_string(o.max_examples) +
                                " examples, the first rung needs " + std::to_string(o.first));
  }
  HalvingResult result;
  std::vector<size_t> alive(arms);
  std::iota(alive.begin(), alive.end(), size_t{0});
  size_t n = o.first, before = 0;
  for (;;) {
    if (!result.rungs.empty() && !affordable(alive.size() * (n - before))) {
      result.budget_stop = true;
      break;
    }
    result.rungs.push_back(run_rung(alive, n, mean_of));
    if (alive.size() <= o.keep || n >= o.max_examples) break;
    const Rung& last = result.rungs.back();
    const size_t next = std::max(o.keep, (alive.size() + o.eta - 1) / o.eta);
    alive.assign(last.arms.begin(), last.arms.begin() + std::min(next, last.arms.size()));
    before = n;
    n = std::min(n * o.eta, o.max_examples);
  }
  return result;
}

size_t arms_for_budget(size_t budget, const HalvingOptions& o) {
  // Rung 0 costs arms * first; each later rung keeps 1/eta of the arms on eta times the
  // examples, i.e. about arms * first * (eta - 1) / eta new evaluations.
  const double per_arm =
      o.first * (1.0 + (rung_count(o) - 1) * (o.eta - 1.0) / static_cast<double>(o.eta));
  return std::max<size_t>(2, static_cast<size_t>(budget / per_arm));
}

}  // namespace ptune::search
