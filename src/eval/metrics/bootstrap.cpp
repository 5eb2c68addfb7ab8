// Percentile bootstrap; contract in include/ptune/eval/metrics/bootstrap.h.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "ptune/eval/metrics/bootstrap.h"
#include "ptune/util/random.h"

namespace ptune::eval {
namespace detail {

void for_each_bootstrap_sample(size_t n, const BootstrapOptions& options,
                               const std::function<void(const std::vector<size_t>&)>& visit) {
  if (n == 0) return;
  util::Rng rng(options.seed);
  std::vector<size_t> sample(n);
  for (size_t b = 0; b < options.resamples; ++b) {
    for (auto& i : sample) i = rng.below(n);
    visit(sample);
  }
}

ConfidenceInterval percentile_interval(double value, std::vector<double> stats, double confidence) {
  if (!(confidence > 0 && confidence < 1)) {
    throw std::invalid_argument("bootstrap: confidence must be in (0, 1)");
  }
  ConfidenceInterval ci{value, value, value};
  if (stats.empty()) return ci;
  std::sort(stats.begin(), stats.end());
  // numpy.percentile's default "linear" method: rank q*(n-1), interpolate between neighbours.
  auto percentile = [&](double q) {
    const double rank = q * (stats.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(rank));
    const size_t hi = std::min(lo + 1, stats.size() - 1);
    return stats[lo] + (rank - lo) * (stats[hi] - stats[lo]);
  };
  ci.low = percentile((1 - confidence) / 2);
  ci.high = percentile((1 + confidence) / 2);
  return ci;
}

}  // namespace detail

ConfidenceInterval bootstrap_mean(const std::vector<double>& values,
                                  const BootstrapOptions& options) {
  return bootstrap_ci(
      values.size(),
      [&](const std::vector<size_t>& idx) {
        double sum = 0;
        for (size_t i : idx) sum += values[i];
        return idx.empty() ? 0.0 : sum / idx.size();
      },
      options);
}

}  // namespace ptune::eval
