// Percentile-bootstrap confidence intervals over example indexes, for every headline metric.
//
// The resamples come from util::Rng (fully specified), so an interval is the same for a seed on
// every platform; each call starts from the seed, so every metric of a run sees the same
// resamples.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace ptune::eval {

struct BootstrapOptions {
  size_t resamples = 1000;
  double confidence = 0.95;
  uint64_t seed = 0;
};

struct ConfidenceInterval {
  double value = 0;  // the metric on the full data
  double low = 0;
  double high = 0;
};

// Percentile bootstrap: the metric is recomputed on `resamples` samples of n example indexes
// drawn with replacement; the bounds are the (1-c)/2 and (1+c)/2 percentiles (linear
// interpolation, as numpy.percentile). `metric` receives the sampled indexes (the full data is
// 0..n-1), so corpus metrics (BLEU, macro-F1 over (prediction, gold) pairs) work as well as means.
template <typename Metric>
ConfidenceInterval bootstrap_ci(size_t n, Metric&& metric, const BootstrapOptions& options = {});

// The mean of per-example values (accuracy as 0/1, exact match, ROUGE-L, ...) with its interval.
ConfidenceInterval bootstrap_mean(const std::vector<double>& values,
                                  const BootstrapOptions& options = {});

namespace detail {
// Calls `visit` with each resample's index list in turn (one buffer, reused: memory stays O(n)).
void for_each_bootstrap_sample(size_t n, const BootstrapOptions& options,
                               const std::function<void(const std::vector<size_t>&)>& visit);
ConfidenceInterval percentile_interval(double value, std::vector<double> stats, double confidence);
}  // namespace detail

template <typename Metric>
ConfidenceInterval bootstrap_ci(size_t n, Metric&& metric, const BootstrapOptions& options) {
  std::vector<size_t> all(n);
  for (size_t i = 0; i < n; ++i) all[i] = i;
  const double value = metric(all);
  std::vector<double> stats;
  stats.reserve(options.resamples);
  detail::for_each_bootstrap_sample(
      n, options, [&](const std::vector<size_t>& sample) { stats.push_back(metric(sample)); });
  return detail::percentile_interval(value, std::move(stats), options.confidence);
}

}  // namespace ptune::eval
