// Paired comparison of two prompts scored on the same examples: is B's gain over A real?
//
// Input: per-example scores a[i], b[i] of the same n examples (accuracy as 0/1, or any
// per-example metric). Output: the mean gain b - a with its percentile-bootstrap 95% interval
// (examples resampled in pairs, so the two prompts see the same resample) and two one-sided
// p-values for "B is better than A":
//   bootstrap  the share of resamples whose gain, centred on the observed gain (the null
//              hypothesis of no gain), reaches the observed gain (Efron & Tibshirani's shift
//              method; Berg-Kirkpatrick et al. 2012 for NLP)
//   mcnemar    exact binomial test on the discordant pairs (B right where A is wrong vs the
//              reverse); only for 0/1 scores
// `ptune search` accepts a prompt when the chosen p-value is below its level and the gain is
// positive; a tie (no discordant pairs, or a gain of zero) is never accepted.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "ptune/eval/metrics/bootstrap.h"

namespace ptune::eval {

struct PairedComparison {
  size_t n = 0;
  double mean_a = 0, mean_b = 0;
  ConfidenceInterval gain;  // mean(b - a), with its bootstrap interval
  double p_bootstrap = 1;   // one-sided, B > A
  // 0/1 scores only: the discordant pairs and the exact one-sided p-value.
  std::optional<double> p_mcnemar;
  size_t b_wins = 0;    // b[i] > a[i]
  size_t b_losses = 0;  // b[i] < a[i]
};

// Throws std::invalid_argument when the lists differ in length or are empty.
PairedComparison compare_paired(const std::vector<double>& a, const std::vector<double>& b,
                                const BootstrapOptions& options = {});

// P(X >= k) for X ~ Binomial(n, 1/2), exactly (log-space sums: fine for n in the millions).
double binomial_upper_tail(size_t k, size_t n);

}  // namespace ptune::eval
