// "similar" few-shot selection (BM25) and the per-label cap; the other modes are covered in
// splits_test.cpp.
#include "ptune/tasks/fewshot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <stdexcept>

#include "ptune/tasks/errors.h"
#include "ptune/tasks/task.h"

namespace ptune::tasks {
namespace {

using ::testing::HasSubstr;

Example row(const std::string& text, const std::string& label, int64_t line) {
  Example ex;
  ex.fields = {{"text", text}, {"label", label}};
  ex.source = "pool.jsonl";
  ex.line = line;
  return ex;
}

std::vector<Example> pool_of(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::vector<Example> pool;
  for (size_t i = 0; i < rows.size(); ++i) {
    pool.push_back(row(rows[i].first, rows[i].second, static_cast<int64_t>(i + 1)));
  }
  return pool;
}

FewShotSpec similar(size_t k, size_t per_label = 0) {
  FewShotSpec f;
  f.k = k;
  f.selection = DemoSelection::Similar;
  f.per_label = per_label;
  return f;
}

// Pool positions of the demos, in prompt order.
std::vector<size_t> positions(const std::vector<Example>& pool,
                              const std::vector<const Example*>& demos) {
  std::vector<size_t> out;
  for (const Example* d : demos) out.push_back(static_cast<size_t>(d - pool.data()));
  return out;
}

Example query(const std::string& text) {
  return row(text, "x", 0);  // line 0: built in code, never a pool row
}

// An intent-routing pool: two rows share the query's rare words ("pin", "blocked"); the rest
// share only common ones ("my", "card", "is").
const std::vector<std::pair<std::string, std::string>> kIntents = {
    {"my card is not working", "card_broken"},         // 0
    {"How do I reset my PIN?", "change_pin"},          // 1
    {"my card is lost", "lost_card"},                  // 2
    {"PIN blocked after three tries", "pin_blocked"},  // 3
    {"where is my card", "card_arrival"},              // 4
    {"I want a refund", "refund"},                     // 5
};

TEST(FewShotSimilar, Bm25MatchesAHandComputation) {
  const auto pool =
      pool_of({{"the cat sat", "a"}, {"the dog sat down", "b"}, {"cat cat bird", "a"}});
  const DemoSelector sel(pool, similar(1), "label", {"text"});
  // Query words {cat, sat}: case, punctuation and the repeat do not count.
  const auto s = sel.similarity(query("Cat, SAT! sat"));
  // N = 3, avgdl = 10/3; cat and sat each occur in 2 documents.
  const double idf = std::log(1.0 + (3 - 2 + 0.5) / (2 + 0.5));
  const double k1 = 1.2, b = 0.75, avgdl = 10.0 / 3.0;
  auto term = [&](double tf, double len) {
    return idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avgdl));
  };
  ASSERT_EQ(s.size(), 3u);
  EXPECT_NEAR(s[0], term(1, 3) + term(1, 3), 1e-9);
  EXPECT_NEAR(s[1], term(1, 4), 1e-9);
  EXPECT_NEAR(s[2], term(2, 3), 1e-9);
  // The same numbers written out: idf = ln 1.6, |d| / avgdl = 0.9 and 1.2.
  EXPECT_NEAR(s[0], 2 * std::log(1.6) * 2.2 / (1 + 1.11), 1e-9);
  EXPECT_NEAR(s[1], std::log(1.6) * 2.2 / (1 + 1.38), 1e-9);
  EXPECT_NEAR(s[2], std::log(1.6) * 4.4 / (2 + 1.11), 1e-9);
  EXPECT_EQ(sel.similarity(query("zebra")), (std::vector<double>{0, 0, 0}));
}

TEST(FewShotSimilar, PicksTheExamplesSharingRareWordsMostSimilarLast) {
  const auto pool = pool_of(kIntents);
  const DemoSelector sel(pool, similar(2), "label", {"text"});
  const Example q = query("my pin is blocked");
  // Row 3 shares two rare words, row 1 one; the "my card is" rows share only common words.
  EXPECT_EQ(positions(pool, sel.select(q)), (std::vector<size_t>{1, 3}));
  // Default text fields (all but the label) read the same here.
  EXPECT_EQ(positions(pool, DemoSelector(pool, similar(2), "label").select(q)),
            (std::vector<size_t>{1, 3}));
  // The label field is not text: a query whose only overlap is a label value matches nothing.
  const auto zoo = pool_of({{"hello", "zebra"}, {"zebra crossing", "road"}});
  const auto s = DemoSelector(zoo, similar(1), "label").similarity(query("zebra"));
  EXPECT_EQ(s[0], 0.0);
  EXPECT_NEAR(s[1], std::log(2.0) * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 2 / 1.5)), 1e-9);
}

TEST(FewShotSimilar, PerLabelCapHolds) {
  const auto pool = pool_of({{"card pin blocked", "pin"},
                             {"pin blocked card", "pin"},
                             {"blocked pin", "pin"},
                             {"card", "card"},
                             {"hello there", "other"}});
  const Example q = query("card pin blocked");
  // Uncapped, the three "pin" rows are the top three.
  std::map<std::string, size_t> labels;
  for (const Example* d : DemoSelector(pool, similar(3), "label").select(q))
    ++labels[d->get("label")];
  EXPECT_EQ(labels["pin"], 3u);
  // Capped at 2, the third pin row gives way to the best of another label.
  const auto capped = DemoSelector(pool, similar(3, 2), "label").select(q);
  labels.clear();
  for (const Example* d : capped) ++labels[d->get("label")];
  EXPECT_EQ(labels, (std::map<std::string, size_t>{{"card", 1}, {"pin", 2}}));
  // Random and stratified respect the cap too.
  for (auto mode : {DemoSelection::Random, DemoSelection::Stratified}) {
    for (uint64_t seed = 0; seed < 10; ++seed) {
      FewShotSpec f = similar(4, 2);
      f.selection = mode;
      f.seed = seed;
      labels.clear();
      for (const Example* d : DemoSelector(pool, f, "label").select(q)) ++labels[d->get("label")];
      for (const auto& [label, n] : labels) EXPECT_LE(n, 2u) << label << " seed " << seed;
    }
  }
}

TEST(FewShotSimilar, NeverTheQueryItself) {
  const auto pool = pool_of(kIntents);
  const DemoSelector sel(pool, similar(3), "label", {"text"});
  for (const Example& q : pool) {
    // Its own row scores highest; it must not be a demo (it would show the gold label).
    for (const Example* d : sel.select(q)) EXPECT_FALSE(d->same_row(q)) << q.location();
    EXPECT_EQ(sel.select(q).size(), 3u);
  }
}

TEST(FewShotSimilar, DeterministicTiesInPoolOrder) {
  const auto pool =
      pool_of({{"same words", "a"}, {"same words", "b"}, {"same words", "a"}, {"same words", "b"}});
  FewShotSpec f = similar(3);
  const DemoSelector sel(pool, f, "label");
  // Equal scores rank in pool order (0, 1, 2); the best-ranked comes last.
  EXPECT_EQ(positions(pool, sel.select(query("same"))), (std::vector<size_t>{2, 1, 0}));
  // Seed, resample and the query index do not change similar demos.
  f.seed = 99;
  f.resample = true;
  EXPECT_EQ(DemoSelector(pool, f, "label").select(query("same"), 7), sel.select(query("same"), 0));
  // A query sharing no word still gets k demos, in pool order.
  EXPECT_EQ(positions(pool, sel.select(query("nothing in common"))),
            (std::vector<size_t>{2, 1, 0}));
  // The one-call wrapper agrees with the cached selector.
  EXPECT_EQ(select_demos(pool, similar(3), query("same"), "label"), sel.select(query("same")));
}

TEST(FewShotSimilar, TooFewDemosIsAnError) {
  const auto pool = pool_of(kIntents);
  // 6 rows minus the query leave 5.
  EXPECT_EQ(DemoSelector(pool, similar(5), "label").select(pool[0]).size(), 5u);
  EXPECT_THROW(DemoSelector(pool, similar(6), "label").select(pool[0]), std::invalid_argument);
  // Two labels, at most one each: k = 3 cannot be met.
  const auto two = pool_of({{"a", "x"}, {"b", "x"}, {"c", "y"}, {"d", "y"}});
  try {
    DemoSelector(two, similar(3, 1), "label").select(query("a"));
    ADD_FAILURE() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("only 2 usable examples with at most 1 per label"));
  }
  EXPECT_TRUE(DemoSelector(pool, similar(0), "label").select(pool[0]).empty());
}

// Parses `json` expecting a TaskFileError for `key`; returns the message.
std::string task_error(const std::string& json, const std::string& key) {
  try {
    parse_task(json, "t.json", "/base");
  } catch (const TaskFileError& e) {
    EXPECT_EQ(e.key(), key) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected a TaskFileError for key " << key;
  return "";
}

std::string classification(const std::string& few_shot) {
  return R"({"type": "classification", "template": "{demos}{text}", "labels": {"a": "x", "b": "y"},
    "data": {"file": "d.jsonl"}, "few_shot": {"template": "{text} {target}", )" +
         few_shot + "}}";
}

std::string generation(const std::string& few_shot) {
  return R"({"type": "generation", "template": "{demos}Q: {message}\nA:",
    "data": {"file": "d.jsonl"}, "few_shot": {"template": "Q: {message}\nA: {target}", )" +
         few_shot + "}}";
}

TEST(FewShotSimilar, TaskFileKeys) {
  TaskSpec t = parse_task(classification(R"("k": 5, "selection": "similar", "per_label": 2)"),
                          "t.json", "/base");
  EXPECT_EQ(t.few_shot.selection, DemoSelection::Similar);
  EXPECT_EQ(t.few_shot.per_label, 2u);
  EXPECT_STREQ(to_string(DemoSelection::Similar), "similar");
  // Similar works on any text, so generation may use it (without a cap).
  t = parse_task(generation(R"("k": 2, "selection": "similar")"), "t.json", "/base");
  EXPECT_EQ(t.few_shot.selection, DemoSelection::Similar);
  EXPECT_EQ(t.few_shot.per_label, 0u);

  EXPECT_THAT(task_error(classification(R"("k": 2, "selection": "nearest")"), "few_shot.selection"),
              HasSubstr("similar"));
  task_error(classification(R"("k": 2, "selection": "similar", "per_label": -1)"),
             "few_shot.per_label");
  task_error(classification(R"("k": 2, "selection": "similar", "per_label": "two")"),
             "few_shot.per_label");
  EXPECT_THAT(task_error(generation(R"("k": 2, "selection": "similar", "per_label": 1)"),
                         "few_shot.per_label"),
              HasSubstr("generation task has no labels"));
  EXPECT_THAT(task_error(classification(R"("k": 1, "selection": "fixed", "indices": [0, 1],
                                           "per_label": 1)"),
                         "few_shot.per_label"),
              HasSubstr("fixed"));
}

}  // namespace
}  // namespace ptune::tasks
