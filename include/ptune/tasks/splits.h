// Seeded train/dev/test splits and stratified samples (--limit).
//
// Every function here is deterministic for a given seed on every platform (a fixed PRNG and our
// own shuffle, not std::shuffle whose output differs between standard libraries), and keeps the
// examples of each result in their original file order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ptune/tasks/dataset.h"

namespace ptune::tasks {

struct SplitFractions {
  double train = 0.8;
  double dev = 0.1;
  double test = 0.1;
  // Throws std::invalid_argument unless all are >= 0 and they sum to 1 (within 1e-6).
  void validate() const;
};

struct Splits {
  std::vector<Example> train;
  std::vector<Example> dev;
  std::vector<Example> test;
};

// Splits `examples` by the fractions. With a non-empty `stratify_field` each value of that field
// (the label) is split separately, so every split keeps the label proportions. Sizes round to
// nearest: round(n*train) train, round(n*(train+dev)) - that dev, the rest test.
Splits split_examples(const std::vector<Example>& examples, const SplitFractions& fractions,
                      uint64_t seed, const std::string& stratify_field = "");

// A seeded sample of n examples (all, unchanged, when n >= size), in file order; --limit. With
// `stratify_field` (the label), each label gets n * its share of the examples, rounded by largest
// remainder so the total is exactly n, and every label at least one example when n is at least
// the number of labels (taken from the label most above its share). Without it, a uniform sample.
std::vector<Example> sample_examples(const std::vector<Example>& examples, size_t n, uint64_t seed,
                                     const std::string& stratify_field = "");

}  // namespace ptune::tasks
