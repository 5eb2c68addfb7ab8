// The paired comparison of two runs: exact McNemar against known values, a tie is not
// significant, a real gain is, examples pair by source, and CSV export quotes what it must.
#include <gtest/gtest.h>

#include <sstream>

#include "ptune/runs/compare.h"
#include "ptune/runs/export.h"

namespace ptune::runs {
namespace {

runs::Run run_with(int64_t id, const std::vector<int>& correct, size_t offset = 0) {
  runs::Run r;
  r.id = id;
  for (size_t i = 0; i < correct.size(); ++i) {
    r.examples.push_back({{"source", "d.jsonl:" + std::to_string(i + offset)},
                          {"correct", correct[i] == 1},
                          {"token_f1", correct[i] * 0.5}});
  }
  return r;
}

TEST(McNemar, MatchesTheBinomialByHand) {
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(0, 0), 1.0);
  // 0 vs 5 discordant: 2 * 0.5^5.
  EXPECT_NEAR(mcnemar_exact_p(0, 5), 0.0625, 1e-12);
  // 1 vs 9: 2 * (1 + 10) / 1024 (scipy.stats.binomtest(1, 10).pvalue = 0.021484375).
  EXPECT_NEAR(mcnemar_exact_p(1, 9), 0.021484375, 1e-12);
  EXPECT_NEAR(mcnemar_exact_p(9, 1), 0.021484375, 1e-12);
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(5, 5), 1.0);
}

TEST(ComparePaired, ATieIsNotSignificant) {
  std::vector<double> a, b;
  for (int i = 0; i < 200; ++i) {  // same accuracy, disagreeing on 20 examples each way
    a.push_back(i % 2);
    b.push_back(i < 40 ? 1 - a.back() : a.back());
  }
  const PairedComparison c = compare_paired(a, b);
  EXPECT_EQ(c.test, "mcnemar-exact");
  EXPECT_FALSE(c.significant) << c.summary();
  EXPECT_EQ(c.a_better, 20u);
  EXPECT_EQ(c.b_better, 20u);
  EXPECT_DOUBLE_EQ(c.p_value, 1.0);
  EXPECT_LE(c.low, 0.0);
  EXPECT_GE(c.high, 0.0);
}

TEST(ComparePaired, ARealGainIsSignificantWithItsInterval) {
  std::vector<double> a(200, 0), b(200, 0);
  for (int i = 0; i < 200; ++i) {
    a[i] = i < 120 ? 1 : 0;              // 0.60
    b[i] = i < 120 || i >= 170 ? 1 : 0;  // 0.85: 30 examples fixed, none broken
  }
  const PairedComparison c = compare_paired(a, b);
  EXPECT_NEAR(c.difference, 0.15, 1e-12);
  EXPECT_TRUE(c.significant) << c.summary();
  EXPECT_LT(c.p_value, 1e-6);
  EXPECT_EQ(c.b_better, 30u);
  EXPECT_EQ(c.a_better, 0u);
  EXPECT_GT(c.low, 0.0);
  EXPECT_LT(c.low, 0.15);
  EXPECT_GT(c.high, 0.15);
}

TEST(ComparePaired, ContinuousValuesUseThePermutationTest) {
  std::vector<double> a(50), b(50);
  for (int i = 0; i < 50; ++i) a[i] = 0.3 + 0.01 * (i % 7), b[i] = a[i] + 0.1;
  const PairedComparison gain = compare_paired(a, b);
  EXPECT_EQ(gain.test, "paired-permutation");
  EXPECT_TRUE(gain.significant);
  const PairedComparison same = compare_paired(a, a);
  EXPECT_FALSE(same.significant);
  EXPECT_THROW(compare_paired({1}, {1, 0}), std::invalid_argument);
}

TEST(CompareRuns, PairsExamplesBySource) {
  const runs::Run a = run_with(1, {1, 0, 1, 0});     // sources 0..3
  const runs::Run b = run_with(2, {1, 1, 1, 1}, 2);  // sources 2..5
  const PairedComparison c = compare_runs(a, b);
  EXPECT_EQ(c.shared, 2u);  // sources 2 and 3
  EXPECT_EQ(c.only_a, 2u);
  EXPECT_EQ(c.only_b, 2u);
  EXPECT_DOUBLE_EQ(c.a, 0.5);
  EXPECT_DOUBLE_EQ(c.b, 1.0);
  CompareOptions f1;
  f1.metric = "token_f1";
  EXPECT_DOUBLE_EQ(compare_runs(a, b, f1).b, 0.5);
  CompareOptions missing;
  missing.metric = "bleu";
  EXPECT_THROW(compare_runs(a, b, missing), std::invalid_argument);
  EXPECT_THROW(compare_runs(a, run_with(3, {1}, 100)), std::invalid_argument);
  EXPECT_THROW(compare_runs(a, runs::Run{}), std::invalid_argument);
}

TEST(Export, CsvQuotesAndJsonlRoundTrips) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\"\n"), "\"say \"\"hi\"\"\n\"");
  runs::Run r;
  r.id = 7;
  r.examples.push_back({{"index", 0},
                        {"source", "d:1"},
                        {"input", {{"text", "good, really"}}},
                        {"gold", "positive"},
                        {"prediction", "positive"},
                        {"correct", true},
                        {"label_scores", {{"positive", {{"score", -0.1}, {"prob", 0.9}}}}}});
  std::ostringstream csv;
  export_examples(r, "csv", csv);
  EXPECT_EQ(csv.str(),
            "run,index,source,input,gold,prediction,correct,confidence\r\n"
            "7,0,d:1,\"good, really\",positive,positive,true,0.9\r\n");
  std::ostringstream jsonl;
  export_examples(r, "jsonl", jsonl);
  EXPECT_EQ(nlohmann::json::parse(jsonl.str()), r.examples[0]);
  EXPECT_THROW(export_examples(r, "xml", jsonl), std::invalid_argument);
}

}  // namespace
}  // namespace ptune::runs
