// The paired test `ptune search` accepts a winner with.
#include "ptune/eval/metrics/paired.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace ptune::eval {
namespace {

TEST(Paired, BinomialTailIsExact) {
  EXPECT_DOUBLE_EQ(binomial_upper_tail(0, 5), 1.0);
  EXPECT_NEAR(binomial_upper_tail(10, 10), 1.0 / 1024, 1e-15);
  EXPECT_NEAR(binomial_upper_tail(9, 10), 11.0 / 1024, 1e-14);
  EXPECT_NEAR(binomial_upper_tail(5, 10), 638.0 / 1024, 1e-13);
  EXPECT_DOUBLE_EQ(binomial_upper_tail(11, 10), 0.0);
}

TEST(Paired, RejectsATie) {
  // Same accuracy, different examples right: 10 wins, 10 losses.
  std::vector<double> a(200, 0), b(200, 0);
  for (size_t i = 0; i < 100; ++i) a[i] = b[i] = 1;
  for (size_t i = 100; i < 110; ++i) b[i] = 1;
  for (size_t i = 0; i < 10; ++i) b[i] = 0;
  const PairedComparison c = compare_paired(a, b);
  EXPECT_DOUBLE_EQ(c.gain.value, 0);
  EXPECT_EQ(c.b_wins, 10u);
  EXPECT_EQ(c.b_losses, 10u);
  ASSERT_TRUE(c.p_mcnemar);
  EXPECT_GT(*c.p_mcnemar, 0.5);
  EXPECT_DOUBLE_EQ(c.p_bootstrap, 1.0);
  // Identical prompts: nothing to accept either.
  const PairedComparison same = compare_paired(a, a);
  EXPECT_DOUBLE_EQ(*same.p_mcnemar, 1.0);
  EXPECT_DOUBLE_EQ(same.p_bootstrap, 1.0);
}

TEST(Paired, AcceptsARealGain) {
  // B fixes 30 of A's errors and breaks 4: +13 points on 200.
  std::vector<double> a(200, 0), b(200, 0);
  for (size_t i = 0; i < 120; ++i) a[i] = b[i] = 1;
  for (size_t i = 120; i < 150; ++i) b[i] = 1;
  for (size_t i = 0; i < 4; ++i) b[i] = 0;
  const PairedComparison c = compare_paired(a, b);
  EXPECT_NEAR(c.gain.value, 26.0 / 200, 1e-12);
  EXPECT_GT(c.gain.low, 0);
  EXPECT_LT(c.gain.low, c.gain.value);
  EXPECT_GT(c.gain.high, c.gain.value);
  EXPECT_LT(*c.p_mcnemar, 1e-5);
  EXPECT_LT(c.p_bootstrap, 0.01);
  // The other way round it is a loss: never significant.
  EXPECT_GT(*compare_paired(b, a).p_mcnemar, 0.99);
}

TEST(Paired, SmallGainsOnFewExamplesAreNotSignificant) {
  std::vector<double> a(20, 0), b(20, 0);
  for (size_t i = 0; i < 10; ++i) a[i] = b[i] = 1;
  b[10] = b[11] = 1;  // +2 of 20
  const PairedComparison c = compare_paired(a, b);
  EXPECT_GT(*c.p_mcnemar, 0.05);  // 2 wins, 0 losses: p = 0.25
  EXPECT_NEAR(*c.p_mcnemar, 0.25, 1e-12);
}

TEST(Paired, ContinuousScoresUseTheBootstrapOnly) {
  std::vector<double> a = {0.5, 0.2, 0.7, 0.1}, b = {0.6, 0.3, 0.8, 0.2};
  const PairedComparison c = compare_paired(a, b);
  EXPECT_FALSE(c.p_mcnemar);
  EXPECT_NEAR(c.gain.value, 0.1, 1e-12);
}

TEST(Paired, RefusesUnpairedInput) {
  EXPECT_THROW(compare_paired({1, 0}, {1}), std::invalid_argument);
  EXPECT_THROW(compare_paired({}, {}), std::invalid_argument);
}

}  // namespace
}  // namespace ptune::eval
