#include "ptune/tasks/splits.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "ptune/tasks/fewshot.h"

namespace ptune::tasks {
namespace {

// n examples, labels cycling a, a, a, b (75% / 25%), line = position + 1.
std::vector<Example> labelled(size_t n) {
  std::vector<Example> out;
  for (size_t i = 0; i < n; ++i) {
    Example ex;
    ex.fields = {{"text", "t" + std::to_string(i)}, {"label", i % 4 == 3 ? "b" : "a"}};
    ex.source = "d.jsonl";
    ex.line = static_cast<int64_t>(i + 1);
    out.push_back(ex);
  }
  return out;
}

std::map<std::string, size_t> label_counts(const std::vector<Example>& v) {
  std::map<std::string, size_t> c;
  for (const auto& e : v) ++c[e.get("label")];
  return c;
}

std::set<int64_t> lines(const std::vector<Example>& v) {
  std::set<int64_t> s;
  for (const auto& e : v) s.insert(e.line);
  return s;
}

TEST(Splits, SizesDisjointnessAndFileOrder) {
  const auto all = labelled(100);
  const Splits s = split_examples(all, {0.8, 0.1, 0.1}, 42);
  EXPECT_EQ(s.train.size(), 80u);
  EXPECT_EQ(s.dev.size(), 10u);
  EXPECT_EQ(s.test.size(), 10u);
  std::set<int64_t> seen = lines(s.train);
  for (auto l : lines(s.dev)) EXPECT_TRUE(seen.insert(l).second);
  for (auto l : lines(s.test)) EXPECT_TRUE(seen.insert(l).second);
  EXPECT_EQ(seen.size(), 100u);
  for (size_t i = 1; i < s.train.size(); ++i) EXPECT_LT(s.train[i - 1].line, s.train[i].line);
}

TEST(Splits, SeededAndReproducible) {
  const auto all = labelled(50);
  EXPECT_EQ(lines(split_examples(all, {}, 1).test), lines(split_examples(all, {}, 1).test));
  EXPECT_NE(lines(split_examples(all, {}, 1).test), lines(split_examples(all, {}, 2).test));
}

TEST(Splits, StratifiedKeepsLabelProportions) {
  const Splits s = split_examples(labelled(80), {0.5, 0.25, 0.25}, 7, "label");
  EXPECT_EQ(label_counts(s.train), (std::map<std::string, size_t>{{"a", 30}, {"b", 10}}));
  EXPECT_EQ(label_counts(s.dev), (std::map<std::string, size_t>{{"a", 15}, {"b", 5}}));
  EXPECT_EQ(label_counts(s.test), (std::map<std::string, size_t>{{"a", 15}, {"b", 5}}));
}

TEST(Splits, RejectsBadFractions) {
  EXPECT_THROW(split_examples(labelled(4), {0.5, 0.5, 0.5}, 0), std::invalid_argument);
  EXPECT_THROW(split_examples(labelled(4), {1.2, -0.2, 0.0}, 0), std::invalid_argument);
}

TEST(Sampling, StratifiedSampleHitsExactSizeAndShares) {
  const auto all = labelled(100);
  const auto s = sample_examples(all, 10, 3, "label");
  EXPECT_EQ(s.size(), 10u);
  // 75/25 of 10 = 7.5 / 2.5: largest remainder ties go to the first label.
  EXPECT_EQ(label_counts(s), (std::map<std::string, size_t>{{"a", 8}, {"b", 2}}));
  EXPECT_EQ(sample_examples(all, 500, 3).size(), 100u);
  EXPECT_EQ(lines(sample_examples(all, 10, 3)), lines(sample_examples(all, 10, 3)));
}

// Rows sorted by label, as task files often are: `counts[k]` rows of label "l<k>" in a block.
std::vector<Example> sorted_by_label(const std::vector<size_t>& counts) {
  std::vector<Example> out;
  for (size_t k = 0; k < counts.size(); ++k) {
    for (size_t i = 0; i < counts[k]; ++i) {
      Example ex;
      ex.fields = {{"text", "t" + std::to_string(out.size())}, {"label", "l" + std::to_string(k)}};
      ex.source = "sorted.csv";
      ex.line = static_cast<int64_t>(out.size() + 2);
      out.push_back(ex);
    }
  }
  return out;
}

std::vector<int64_t> line_list(const std::vector<Example>& v) {
  std::vector<int64_t> out;
  for (const auto& e : v) out.push_back(e.line);
  return out;
}

TEST(Sampling, StratifiedKeepsProportionsOfASortedFile) {
  const auto all = sorted_by_label({60, 30, 10});
  const auto s = sample_examples(all, 20, 5, "label");
  EXPECT_EQ(label_counts(s), (std::map<std::string, size_t>{{"l0", 12}, {"l1", 6}, {"l2", 2}}));
  // Ten labels of 30 rows each: the first 20 rows would all be l0; the sample has 2 of each.
  const auto ten = sample_examples(sorted_by_label(std::vector<size_t>(10, 30)), 20, 1, "label");
  for (const auto& [label, n] : label_counts(ten)) EXPECT_EQ(n, 2u) << label;
  EXPECT_EQ(label_counts(ten).size(), 10u);
}

TEST(Sampling, EveryLabelGetsARowWhenTheLimitAllows) {
  // 97 / 2 / 1 of 5: shares 4.85 / 0.1 / 0.05 would give 5 / 0 / 0; the rare labels take one
  // row each from the label most above its share.
  const auto all = sorted_by_label({97, 2, 1});
  EXPECT_EQ(label_counts(sample_examples(all, 5, 0, "label")),
            (std::map<std::string, size_t>{{"l0", 3}, {"l1", 1}, {"l2", 1}}));
  EXPECT_EQ(label_counts(sample_examples(all, 3, 0, "label")),
            (std::map<std::string, size_t>{{"l0", 1}, {"l1", 1}, {"l2", 1}}));
  // Fewer rows than labels: the largest shares win.
  EXPECT_EQ(label_counts(sample_examples(all, 1, 0, "label")),
            (std::map<std::string, size_t>{{"l0", 1}}));
}

TEST(Sampling, SeededInFileOrderAndAllWhenTheLimitCoversTheRows) {
  const auto all = sorted_by_label({40, 40, 20});
  for (const std::string field : {"label", ""}) {
    const auto a = sample_examples(all, 10, 3, field);
    EXPECT_EQ(a.size(), 10u);
    EXPECT_EQ(line_list(a), line_list(sample_examples(all, 10, 3, field))) << field;
    EXPECT_NE(line_list(a), line_list(sample_examples(all, 10, 4, field))) << field;
    for (size_t i = 1; i < a.size(); ++i) EXPECT_LT(a[i - 1].line, a[i].line) << field;
    EXPECT_EQ(line_list(sample_examples(all, 100, 3, field)), line_list(all)) << field;
    EXPECT_EQ(line_list(sample_examples(all, 500, 3, field)), line_list(all)) << field;
  }
  // The uniform sample is not stuck at the top of the file.
  const auto uniform = sample_examples(all, 10, 3);
  EXPECT_GT(uniform.back().line, all[10].line);
}

FewShotSpec shots(size_t k, DemoSelection sel, uint64_t seed = 0) {
  FewShotSpec f;
  f.k = k;
  f.selection = sel;
  f.seed = seed;
  return f;
}

TEST(FewShot, StratifiedBalancesLabels) {
  const auto pool = labelled(40);
  const auto demos = select_demos(pool, shots(4, DemoSelection::Stratified, 5), pool[0], "label");
  ASSERT_EQ(demos.size(), 4u);
  std::map<std::string, size_t> c;
  for (const auto* d : demos) ++c[d->get("label")];
  EXPECT_EQ(c, (std::map<std::string, size_t>{{"a", 2}, {"b", 2}}));
}

TEST(FewShot, NeverIncludesTheQuery) {
  const auto pool = labelled(6);
  for (auto sel : {DemoSelection::Random, DemoSelection::Stratified}) {
    for (uint64_t seed = 0; seed < 20; ++seed) {
      for (const auto& query : pool) {
        auto spec = shots(5, sel, seed);
        for (const auto* d : select_demos(pool, spec, query, "label")) {
          EXPECT_FALSE(d->same_row(query));
        }
      }
    }
  }
  // All 6 rows minus the query leave 5: asking for 6 is an error, not a silent 5.
  EXPECT_THROW(select_demos(pool, shots(6, DemoSelection::Random), pool[0], "label"),
               std::invalid_argument);
}

TEST(FewShot, FixedIndicesSkipTheQueryAndCheckRange) {
  const auto pool = labelled(10);
  auto spec = shots(2, DemoSelection::Fixed);
  spec.indices = {4, 2, 7};
  auto demos = select_demos(pool, spec, pool[9], "label");
  ASSERT_EQ(demos.size(), 2u);
  EXPECT_EQ(demos[0], &pool[4]);
  EXPECT_EQ(demos[1], &pool[2]);
  demos = select_demos(pool, spec, pool[4], "label");  // the query is a fixed demo: use the spare
  ASSERT_EQ(demos.size(), 2u);
  EXPECT_EQ(demos[0], &pool[2]);
  EXPECT_EQ(demos[1], &pool[7]);
  spec.indices = {4, 20};
  EXPECT_THROW(select_demos(pool, spec, pool[0], "label"), std::invalid_argument);
}

TEST(FewShot, SharedDemosUnlessResampled) {
  const auto pool = labelled(30);
  Example outside;
  outside.fields = {{"text", "q"}, {"label", "a"}};
  auto spec = shots(3, DemoSelection::Random, 9);
  const auto a = select_demos(pool, spec, outside, "label", 0);
  const auto b = select_demos(pool, spec, outside, "label", 1);
  EXPECT_EQ(a, b);  // one demo set: a prompt prefix shared by every query
  spec.resample = true;
  bool differs = false;
  for (size_t q = 1; q < 10 && !differs; ++q) {
    differs = select_demos(pool, spec, outside, "label", 0) !=
              select_demos(pool, spec, outside, "label", q);
  }
  EXPECT_TRUE(differs);
  EXPECT_TRUE(select_demos(pool, shots(0, DemoSelection::Random), outside, "label").empty());
}

}  // namespace
}  // namespace ptune::tasks
