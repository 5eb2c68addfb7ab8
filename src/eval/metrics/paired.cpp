// Paired comparison; contract in include/ptune/eval/metrics/paired.h.
#include "ptune/eval/metrics/paired.h"

#include <cmath>
#include <stdexcept>

namespace ptune::eval {
namespace {

bool binary(const std::vector<double>& v) {
  for (double x : v) {
    if (x != 0 && x != 1) return false;
  }
  return true;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / v.size();
}

}  // namespace

double binomial_upper_tail(size_t k, size_t n) {
  if (k == 0) return 1;
  if (k > n) return 0;
  // log C(n, i) - n log 2, summed from i = k up with log-sum-exp.
  const double log_half_n = -static_cast<double>(n) * std::log(2.0);
  double max_term = -INFINITY;
  std::vector<double> terms;
  terms.reserve(n - k + 1);
  for (size_t i = k; i <= n; ++i) {
    const double t =
        std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) + log_half_n;
    terms.push_back(t);
    max_term = std::max(max_term, t);
  }
  double sum = 0;
  for (double t : terms) sum += std::exp(t - max_term);
  return std::min(1.0, std::exp(max_term) * sum);
}

PairedComparison compare_paired(const std::vector<double>& a, const std::vector<double>& b,
                                const BootstrapOptions& options) {
  if (a.size() != b.size()) {
    throw std::invalid_argument("paired comparison: " + std::to_string(a.size()) + " and " +
                                std::to_string(b.size()) + " scores (the same examples needed)");
  }
  if (a.empty()) throw std::invalid_argument("paired comparison: no examples");
  PairedComparison c;
  c.n = a.size();
  c.mean_a = mean(a);
  c.mean_b = mean(b);
  std::vector<double> diff(c.n);
  for (size_t i = 0; i < c.n; ++i) {
    diff[i] = b[i] - a[i];
    if (diff[i] > 0) ++c.b_wins;
    if (diff[i] < 0) ++c.b_losses;
  }
  const double observed = mean(diff);
  size_t reached = 0;
  std::vector<double> stats;
  stats.reserve(options.resamples);
  detail::for_each_bootstrap_sample(c.n, options, [&](const std::vector<size_t>& idx) {
    double s = 0;
    for (size_t i : idx) s += diff[i];
    const double g = s / idx.size();
    stats.push_back(g);
    // Under the null the gain distribution is centred on 0: g - observed >= observed.
    if (g - observed >= observed) ++reached;
  });
  c.gain = detail::percentile_interval(observed, std::move(stats), options.confidence);
  // No gain is no evidence: the shifted test would otherwise call half the resamples "reached".
  c.p_bootstrap = observed > 0 ? (reached + 1.0) / (options.resamples + 1.0) : 1.0;
  if (binary(a) && binary(b)) {
    c.p_mcnemar = binomial_upper_tail(c.b_wins, c.b_wins + c.b_losses);
    if (c.b_wins + c.b_losses == 0) c.p_mcnemar = 1.0;
  }
  return c;
}

}  // namespace ptune::eval
