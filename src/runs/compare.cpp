// Paired comparison of two runs; see include/ptune/runs/compare.h.
#include "ptune/runs/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "ptune/eval/metrics/bootstrap.h"
#include "ptune/util/random.h"

namespace ptune::runs {

namespace {

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

bool all_binary(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return x == 0.0 || x == 1.0; });
}

// Two-sided p of the mean difference under random sign flips (the null: A and B exchangeable).
double sign_flip_p(const std::vector<double>& diff, size_t rounds, uint64_t seed) {
  const double observed = std::fabs(mean(diff));
  util::Rng rng(seed);
  size_t extreme = 0;
  for (size_t r = 0; r < rounds; ++r) {
    double s = 0;
    for (double d : diff) s += rng.below(2) ? d : -d;
    if (std::fabs(s / static_cast<double>(diff.size())) >= observed - 1e-12) ++extreme;
  }
  return static_cast<double>(extreme + 1) / static_cast<double>(rounds + 1);
}

// The per-example value of a record: "correct" as 0/1, or a number field.
double example_value(const nlohmann::json& rec, const std::string& metric, const Run& run) {
  const std::string key = metric.empty() || metric == "accuracy" ? "correct" : metric;
  const auto it = rec.find(key);
  if (it == rec.end() || !(it->is_number() || it->is_boolean())) {
    throw std::invalid_argument("run " + std::to_string(run.id) + ": example " +
                                rec.value("source", std::string("?")) + " has no per-example '" +
                                key + "' (pick one with --metric)");
  }
  return it->is_boolean() ? (it->get<bool>() ? 1.0 : 0.0) : it->get<double>();
}

std::map<std::string, double> values_by_source(const Run& run, const std::string& metric) {
  if (run.examples.empty()) {
    throw std::invalid_argument("run " + std::to_string(run.id) +
                                " has no per-example records to compare");
  }
  std::map<std::string, double> out;
  for (size_t i = 0; i < run.examples.size(); ++i) {
    const nlohmann::json& rec = run.examples[i];
    const std::string source = rec.value("source", std::to_string(i));
    out[source] = example_value(rec, metric, run);
  }
  return out;
}

}  // namespace

double mcnemar_exact_p(size_t b, size_t c) {
  const size_t n = b + c;
  if (n == 0) return 1.0;
  const size_t k = std::min(b, c);
  // P(X <= k) for X ~ Binomial(n, 1/2), summed in log space so large n does not overflow.
  double cdf = 0;
  for (size_t i = 0; i <= k; ++i) {
    const double log_term =
        std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(i) + 1) -
        std::lgamma(static_cast<double>(n - i) + 1) - static_cast<double>(n) * std::log(2.0);
    cdf += std::exp(log_term);
  }
  return std::min(1.0, 2 * cdf);
}

PairedComparison compare_paired(const std::vector<double>& a, const std::vector<double>& b,
                                const CompareOptions& o) {
  if (a.size() != b.size()) throw std::invalid_argument("compare: runs of different sizes");
  if (a.empty()) throw std::invalid_argument("compare: no shared examples");
  PairedComparison c;
  c.metric = o.metric.empty() ? "accuracy" : o.metric;
  c.shared = a.size();
  c.a = mean(a);
  c.b = mean(b);
  std::vector<double> diff(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    diff[i] = b[i] - a[i];
    if (diff[i] > 0) ++c.b_better;
    if (diff[i] < 0) ++c.a_better;
  }
  eval::BootstrapOptions boot;
  boot.resamples = o.resamples;
  boot.seed = o.seed;
  const eval::ConfidenceInterval ci = eval::bootstrap_mean(diff, boot);
  c.difference = ci.value;
  c.low = ci.low;
  c.high = ci.high;
  if (all_binary(a) && all_binary(b)) {
    c.test = "mcnemar-exact";
    c.p_value = mcnemar_exact_p(c.a_better, c.b_better);
  } else {
    c.test = "paired-permutation";
    c.p_value = sign_flip_p(diff, o.permutations, o.seed);
  }
  c.significant = c.p_value < o.alpha;
  return c;
}

PairedComparison compare_runs(const Run& a, const Run& b, const CompareOptions& o) {
  const auto va = values_by_source(a, o.metric);
  const auto vb = values_by_source(b, o.metric);
  std::vector<double> xa, xb;
  for (const auto& [source, value] : va) {
    const auto it = vb.find(source);
    if (it == vb.end()) continue;
    xa.push_back(value);
    xb.push_back(it->second);
  }
  if (xa.empty()) {
    throw std::invalid_argument("runs " + std::to_string(a.id) + " and " + std::to_string(b.id) +
                                " share no example (matched by source file:line)");
  }
  PairedComparison c = compare_paired(xa, xb, o);
  c.only_a = va.size() - xa.size();
  c.only_b = vb.size() - xb.size();
  return c;
}

std::string PairedComparison::summary() const {
  char buf[256];
  std::snprintf(buf, sizeof buf, "B - A = %+.4f [%.4f, %.4f], p = %.4g (%s, %zu shared examples)",
                difference, low, high, p_value,
                test == "mcnemar-exact" ? "exact McNemar" : "paired permutation", shared);
  return buf;
}

}  // namespace ptune::runs
