// Comparing two runs on the examples they share: is B better than A, and by how much?
//
// Examples are matched by their "source" (file:line), so two evals of the same data with
// different prompts, or a tune's dev predictions against an eval of the dev split, pair up. The
// per-example value is "correct" (0/1, i.e. accuracy) or any per-example number the records
// carry (exact_match, token_f1, rouge_l, gold_nll, ...).
//   difference  mean(B) - mean(A) over the shared examples
//   95% CI      paired percentile bootstrap of the per-example differences (the same resamples
//               for both runs: the pairing is what makes small gains detectable)
//   p-value     two-sided; exact McNemar (binomial on the discordant pairs) when every value is
//               0 or 1, else a paired sign-flip permutation test (10,000 seeded flips)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ptune/runs/run.h"

namespace ptune::runs {

struct CompareOptions {
  std::string metric;  // "" or "accuracy" = the records' "correct"; else a per-example number
  size_t resamples = 1000;
  size_t permutations = 10000;
  uint64_t seed = 0;
  double alpha = 0.05;  // "significant" below this p-value
};

struct PairedComparison {
  std::string metric;
  std::string test;                           // "mcnemar-exact" or "paired-permutation"
  size_t shared = 0, only_a = 0, only_b = 0;  // examples in both runs, in one only
  double a = 0, b = 0;                        // means over the shared examples
  double difference = 0, low = 0, high = 0;   // b - a with its 95% CI
  double p_value = 1;
  size_t a_better = 0, b_better = 0;  // examples where one run scores higher than the other
  bool significant = false;           // p_value < alpha

  // "B - A = +0.062 [0.021, 0.104], p = 0.004 (exact McNemar, 128 shared examples)".
  std::string summary() const;
};

// The comparison of paired per-example values (a[i] and b[i] are the same example); throws
// std::invalid_argument for different sizes or no values.
PairedComparison compare_paired(const std::vector<double>& a, const std::vector<double>& b,
                                const CompareOptions& options = {});

// The comparison of two recorded runs; throws std::invalid_argument when a run has no
// per-example records, they share no example, or an example lacks the metric (naming it).
PairedComparison compare_runs(const Run& a, const Run& b, const CompareOptions& options = {});

// Two-sided exact McNemar p-value for `b` discordant pairs one way and `c` the other.
double mcnemar_exact_p(size_t b, size_t c);

}  // namespace ptune::runs
