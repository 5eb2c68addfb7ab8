// The search driver on a synthetic objective: it finds the known-better candidate, accepts it
// on test only with a significant gain, resumes after a crash to the same result, and its four
// splits never share a row.
#include "ptune/search/search.h"

#include <gtest/gtest.h>

#include <set>

#include "search_fixture.h"

namespace ptune::search {
namespace {

using test::fresh_journal;

SearchOptions options() {
  SearchOptions o;
  o.budget = 1500;
  o.seed = 3;
  o.halving.first = 16;
  return o;
}

TEST(SearchData, SplitsAreDisjointAndCoverTrain) {
  const tasks::TaskSpec task = test::sentiment_task();
  const tasks::TaskData data = test::sentiment_data();
  SplitOptions so;
  so.search_size = 64;
  const SearchData d = make_search_data(task, data, so);
  EXPECT_EQ(d.search.size(), 64u);
  EXPECT_EQ(d.pool.size(), 136u);
  std::set<std::string> rows;
  for (const auto* s : {&d.pool, &d.search, &d.dev, &d.test}) {
    for (const auto& e : *s) EXPECT_TRUE(rows.insert(e.location()).second) << e.location();
  }
  for (size_t i = 0; i < d.pool.size(); ++i)
    EXPECT_EQ(d.pool[i].location(), data.train[d.pool_rows[i]].location());
  // The same file as two splits is refused.
  tasks::TaskData twice = data;
  twice.test = twice.dev;
  EXPECT_THROW(make_search_data(task, twice, so), std::invalid_argument);
  // Without a size: 128, or half of a smaller train split.
  EXPECT_EQ(make_search_data(task, test::sentiment_data(85, 10, 10), {}).search.size(), 42u);
  EXPECT_EQ(make_search_data(task, test::sentiment_data(400, 10, 10), {}).search.size(), 128u);
  tasks::TaskData no_dev = data;
  no_dev.dev.clear();
  EXPECT_THROW(make_search_data(task, no_dev, so), std::invalid_argument);
}

TEST(Search, FindsTheBetterPromptAndAcceptsIt) {
  test::SyntheticSearch s("finds");
  const SearchResult r = run_search(s.task, s.data, s.evals, nullptr, nullptr, options());
  EXPECT_TRUE(r.best.calibration);  // worth +15 points; the start is uncalibrated
  EXPECT_NE(r.best.normalize, tasks::ScoreNormalization::Mean);
  EXPECT_TRUE(r.accepted) << r.verdict;
  EXPECT_GT(r.test.gain.low, 0);
  EXPECT_LT(r.p_value, 0.05);
  EXPECT_EQ(r.test_name, "mcnemar");
  // Each prompt's own test mean and interval, beside the paired gain.
  EXPECT_DOUBLE_EQ(r.test_start.value, r.test.mean_a);
  EXPECT_DOUBLE_EQ(r.test_best.value, r.test.mean_b);
  EXPECT_LT(r.test_best.low, r.test_best.value);
  EXPECT_GT(r.test_best.high, r.test_best.value);
  // The budget holds back the finalists' dev scoring, and candidates that would overrun it are
  // not raced.
  EXPECT_LE(r.spent, options().budget);
  EXPECT_EQ(r.spent_test, 2 * s.data.test.size());
}

TEST(Search, RarelyAcceptsWhenNothingIsBetter) {
  const tasks::TaskSpec task = test::sentiment_task();
  const tasks::TaskData data = test::sentiment_data();
  const SearchData d = make_search_data(task, data, {});
  // Only the instruction varies, and the synthetic quality ignores it: every arm is a tie in
  // truth, so a winner on dev is luck, and the test at alpha 0.05 should pass it about 1 time in
  // 20 (one-sided; the test split was not used to pick it).
  size_t accepted = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    test::SyntheticObjective obj(d);
    Journal j(fresh_journal("tie_" + std::to_string(seed)));
    Evaluations e(obj, j);
    SearchOptions o = options();
    o.seed = seed;
    o.vary_demos = o.vary_calibration = o.vary_normalize = o.vary_verbalizer = false;
    o.instructions = {"Say if the review is good or bad.", "Is this review positive or negative?"};
    const SearchResult r = run_search(task, d, e, nullptr, nullptr, o);
    if (r.accepted) ++accepted;
    if (!r.accepted) {
      EXPECT_EQ(candidate_id(r.chosen()), candidate_id(r.start));
    }
  }
  EXPECT_LE(accepted, 3u);
}

TEST(Search, ResumesAfterACrashToTheSameResult) {
  const tasks::TaskSpec task = test::sentiment_task();
  const tasks::TaskData data = test::sentiment_data();
  const SearchData d = make_search_data(task, data, {});
  // Uninterrupted.
  test::SyntheticObjective whole_obj(d);
  Journal whole_j(fresh_journal("resume_whole"));
  Evaluations whole_e(whole_obj, whole_j);
  const SearchResult whole = run_search(task, d, whole_e, nullptr, nullptr, options());
  // Killed during its 7th model call, then run again with the same journal.
  const std::string path = fresh_journal("resume_killed");
  test::SyntheticObjective first(d);
  first.fail_after = 6;
  {
    Journal j(path);
    Evaluations e(first, j);
    EXPECT_THROW(run_search(task, d, e, nullptr, nullptr, options()), std::runtime_error);
  }
  test::SyntheticObjective second(d);
  Journal j(path);
  Evaluations e(second, j);
  const SearchResult resumed = run_search(task, d, e, nullptr, nullptr, options());
  EXPECT_EQ(candidate_id(resumed.best), candidate_id(whole.best));
  EXPECT_EQ(resumed.accepted, whole.accepted);
  EXPECT_DOUBLE_EQ(resumed.test.gain.value, whole.test.gain.value);
  ASSERT_EQ(resumed.leaderboard.size(), whole.leaderboard.size());
  for (size_t i = 0; i < whole.leaderboard.size(); ++i) {
    EXPECT_EQ(resumed.leaderboard[i].id, whole.leaderboard[i].id);
    EXPECT_DOUBLE_EQ(resumed.leaderboard[i].search_mean, whole.leaderboard[i].search_mean);
  }
  EXPECT_EQ(resumed.spent, whole.spent);
  // Nothing was scored twice: the two processes together computed what one did.
  EXPECT_EQ(first.evaluated + second.evaluated, whole_obj.evaluated);
  EXPECT_GT(resumed.replayed, 0u);
}

TEST(Search, BudgetPresets) {
  EXPECT_EQ(parse_budget("light"), 1500u);
  EXPECT_EQ(parse_budget("heavy"), 15000u);
  EXPECT_EQ(parse_budget("250"), 250u);
  EXPECT_THROW(parse_budget("-3"), std::invalid_argument);
  EXPECT_THROW(parse_budget("lite"), std::invalid_argument);
  EXPECT_THROW(parse_budget("0"), std::invalid_argument);
}

}  // namespace
}  // namespace ptune::search
