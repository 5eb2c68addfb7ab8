// Successive halving keeps the truly best arm and stops within its budget.
#include "ptune/search/halving.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

#include "ptune/util/random.h"

namespace ptune::search {
namespace {

// Arm a's example i is a Bernoulli(p[a]) draw fixed by (seed, a, i).
double bernoulli_mean(const std::vector<double>& p, uint64_t seed, size_t arm, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t h = util::mix_seed(util::mix_seed(seed, arm), i);
    s += (h % 100000) / 100000.0 < p[arm] ? 1 : 0;
  }
  return s / n;
}

TEST(Halving, KeepsTheTrueBestArm) {
  // 24 arms: one at 0.80, the rest spread over 0.50-0.70.
  std::vector<double> p;
  for (size_t a = 0; a < 24; ++a) p.push_back(0.5 + 0.2 * a / 23.0);
  p[17] = 0.8;
  HalvingOptions o;
  o.first = 32;
  o.eta = 2;
  o.keep = 3;
  o.max_examples = 512;
  size_t kept = 0, first = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const HalvingResult r = successive_halving(
        p.size(), o, [&](size_t arm, size_t n) { return bernoulli_mean(p, seed, arm, n); },
        [](size_t) { return true; });
    const auto& rank = r.ranking();
    if (std::find(rank.begin(), rank.end(), 17u) != rank.end()) ++kept;
    if (rank.front() == 17u) ++first;
  }
  EXPECT_GE(kept, 19u);   // among the survivors in (nearly) every draw
  EXPECT_GE(first, 15u);  // and usually ranked first
}

TEST(Halving, RungsGrowAndArmsShrink) {
  HalvingOptions o;
  o.first = 10;
  o.eta = 3;
  o.keep = 2;
  o.max_examples = 100;
  std::vector<std::pair<size_t, size_t>> calls;
  const HalvingResult r = successive_halving(
      27, o,
      [&](size_t arm, size_t n) {
        calls.emplace_back(arm, n);
        return static_cast<double>(arm);  // higher arm = better
      },
      [](size_t) { return true; });
  ASSERT_EQ(r.rungs.size(), 4u);
  EXPECT_EQ(r.rungs[0].examples, 10u);
  EXPECT_EQ(r.rungs[0].arms.size(), 27u);
  EXPECT_EQ(r.rungs[1].examples, 30u);
  EXPECT_EQ(r.rungs[1].arms.size(), 9u);
  EXPECT_EQ(r.rungs[2].examples, 90u);
  EXPECT_EQ(r.rungs[2].arms.size(), 3u);
  EXPECT_EQ(r.rungs[3].examples, 100u);  // capped at the split
  EXPECT_EQ(r.rungs[3].arms.size(), 2u);
  EXPECT_EQ(r.ranking(), (std::vector<size_t>{26, 25}));
}

TEST(Halving, TiesGoToTheLowerArm) {
  HalvingOptions o;
  o.first = 4;
  o.keep = 1;
  o.max_examples = 4;
  const HalvingResult r = successive_halving(
      5, o, [](size_t, size_t) { return 0.5; }, [](size_t) { return true; });
  EXPECT_EQ(r.ranking().front(), 0u);
}

TEST(Halving, StopsWhenTheNextRungDoesNotFit) {
  HalvingOptions o;
  o.first = 8;
  o.keep = 1;
  o.max_examples = 64;
  size_t spent = 0;
  const HalvingResult r = successive_halving(
      16, o,
      [&](size_t arm, size_t n) {
        spent += n;  // an upper bound, fine for the test
        return static_cast<double>(arm);
      },
      [&](size_t cost) { return spent + cost <= 150; });
  EXPECT_TRUE(r.budget_stop);
  EXPECT_EQ(r.rungs.size(), 1u);  // 16 x 8 = 128 spent; the next rung (8 x 8 more) would pass 150
  EXPECT_EQ(r.ranking().front(), 15u);
}

TEST(Halving, RefusesBadOptions) {
  HalvingOptions o;
  o.max_examples = 8;
  o.first = 16;
  const auto mean = [](size_t, size_t) { return 0.0; };
  const auto yes = [](size_t) { return true; };
  EXPECT_THROW(successive_halving(3, o, mean, yes), std::invalid_argument);
  o.first = 4;
  EXPECT_THROW(successive_halving(0, o, mean, yes), std::invalid_argument);
  o.eta = 1;
  EXPECT_THROW(successive_halving(3, o, mean, yes), std::invalid_argument);
}

TEST(Halving, ArmsForBudgetGrowsWithTheBudget) {
  HalvingOptions o;
  o.first = 16;
  o.max_examples = 128;
  EXPECT_LT(arms_for_budget(500, o), arms_for_budget(5000, o));
  EXPECT_GE(arms_for_budget(1, o), 2u);
}

}  // namespace
}  // namespace ptune::search
