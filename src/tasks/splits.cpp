// Seeded splits and samples; contract in include/ptune/tasks/splits.h.
#include "ptune/tasks/splits.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <utility>

#include "ptune/util/random.h"

namespace ptune::tasks {
namespace {

// Example indexes grouped by the value of `field` (one group of all when field is empty), in
// label order so the result does not depend on which label the file lists first.
std::vector<std::vector<size_t>> group_by(const std::vector<Example>& examples,
                                          const std::string& field) {
  if (field.empty()) return {util::iota_indices(examples.size())};
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < examples.size(); ++i) groups[examples[i].get(field)].push_back(i);
  std::vector<std::vector<size_t>> out;
  for (auto& [label, idx] : groups) out.push_back(std::move(idx));
  return out;
}

std::vector<Example> pick(const std::vector<Example>& examples, std::vector<size_t> idx) {
  std::sort(idx.begin(), idx.end());  // back to file order
  std::vector<Example> out;
  out.reserve(idx.size());
  for (size_t i : idx) out.push_back(examples[i]);
  return out;
}

// Largest-remainder apportionment of n seats (n < the total size) over groups of these sizes:
// the floor of each exact share, then the leftover seats to the largest fractional parts (ties
// to the earlier group). When n allows, a group left with no seat then takes one from the group
// most above its exact share, so a rare label is still represented in a small sample.
std::vector<size_t> apportion(const std::vector<size_t>& sizes, size_t n) {
  size_t total = 0;
  for (size_t s : sizes) total += s;
  std::vector<double> exact(sizes.size());
  std::vector<size_t> quota(sizes.size());
  std::vector<std::pair<double, size_t>> remainders;
  size_t assigned = 0;
  for (size_t g = 0; g < sizes.size(); ++g) {
    exact[g] = static_cast<double>(n) * sizes[g] / total;
    quota[g] = static_cast<size_t>(exact[g]);
    assigned += quota[g];
    remainders.push_back({exact[g] - quota[g], g});
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = 0; assigned < n; ++i, ++assigned) ++quota[remainders[i].second];
  if (n < sizes.size()) return quota;  // not every group can have a row
  for (size_t g = 0; g < sizes.size(); ++g) {
    if (quota[g] > 0) continue;
    // n >= groups and this one is empty, so some group holds two or more seats.
    size_t donor = sizes.size();
    for (size_t d = 0; d < sizes.size(); ++d) {
      if (quota[d] < 2) continue;
      if (donor == sizes.size() || quota[d] - exact[d] > quota[donor] - exact[donor]) donor = d;
    }
    --quota[donor];
    ++quota[g];
  }
  return quota;
}

}  // namespace

void SplitFractions::validate() const {
  if (train < 0 || dev < 0 || test < 0) {
    throw std::invalid_argument("split fractions must be >= 0");
  }
  if (std::fabs(train + dev + test - 1.0) > 1e-6) {
    throw std::invalid_argument("split fractions must sum to 1 (got " +
                                std::to_string(train + dev + test) + ")");
  }
}

Splits split_examples(const std::vector<Example>& examples, const SplitFractions& fractions,
                      uint64_t seed, const std::string& stratify_field) {
  fractions.validate();
  util::Rng rng(seed);
  std::vector<size_t> train, dev, test;
  for (auto& group : group_by(examples, stratify_field)) {
    rng.shuffle(group);
    const double n = static_cast<double>(group.size());
    const size_t train_end = static_cast<size_t>(std::llround(n * fractions.train));
    const size_t dev_end = std::min(
        group.size(), static_cast<size_t>(std::llround(n * (fractions.train + fractions.dev))));
    for (size_t i = 0; i < group.size(); ++i) {
      (i < train_end ? train : i < dev_end ? dev : test).push_back(group[i]);
    }
  }
  return {pick(examples, train), pick(examples, dev), pick(examples, test)};
}

std::vector<Example> sample_examples(const std::vector<Example>& examples, size_t n, uint64_t seed,
                                     const std::string& stratify_field) {
  if (n >= examples.size()) return examples;
  util::Rng rng(seed);
  auto groups = group_by(examples, stratify_field);
  std::vector<size_t> sizes;
  for (const auto& g : groups) sizes.push_back(g.size());
  const std::vector<size_t> quota = apportion(sizes, n);
  std::vector<size_t> chosen;
  for (size_t g = 0; g < groups.size(); ++g) {
    rng.shuffle(groups[g]);
    chosen.insert(chosen.end(), groups[g].begin(), groups[g].begin() + quota[g]);
  }
  return pick(examples, chosen);
}

}  // namespace ptune::tasks
