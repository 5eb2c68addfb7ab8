// The journal: scores survive, a cut-short last line is dropped, a damaged line is an error, and
// Evaluations never computes a score twice.
#include "ptune/search/journal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "search_fixture.h"
#include "test_util.h"

namespace ptune::search {
namespace {

using ::testing::HasSubstr;

std::string temp_journal(const std::string& name) {
  return test::fresh_journal("journal_" + name);
}

TEST(Journal, ScoresAndProposalsSurviveReopening) {
  const std::string path = temp_journal("reopen");
  {
    Journal j(path);
    j.add_scores({{"a", 1.0}, {"b", 0.0}});
    j.add_proposal("q", "Say whether it is good.");
  }
  Journal j(path);
  EXPECT_EQ(j.score_count(), 2u);
  EXPECT_EQ(j.score("a"), 1.0);
  EXPECT_EQ(j.score("b"), 0.0);
  EXPECT_FALSE(j.score("c"));
  EXPECT_EQ(j.proposal("q"), "Say whether it is good.");
  EXPECT_EQ(j.dropped_bytes(), 0u);
}

TEST(Journal, DropsALastLineCutShort) {
  const std::string path = temp_journal("torn");
  {
    Journal j(path);
    j.add_scores({{"a", 1.0}});
  }
  {
    std::ofstream f(path, std::ios::app);
    f << R"({"score": "b", "val)";  // a crash mid-write
  }
  {
    Journal j(path);
    EXPECT_EQ(j.score_count(), 1u);
    EXPECT_GT(j.dropped_bytes(), 0u);
    j.add_scores({{"c", 0.5}});  // appends after the trimmed line
  }
  Journal j(path);
  EXPECT_EQ(j.score("c"), 0.5);
  EXPECT_EQ(j.dropped_bytes(), 0u);
}

TEST(Journal, ADamagedLineIsAnErrorNamingIt) {
  const std::string path = temp_journal("damaged");
  {
    Journal j(path);
    j.add_scores({{"a", 1.0}});
  }
  {
    std::ofstream f(path, std::ios::app);
    f << "{\"score\": 3}\n";
  }
  try {
    Journal j(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("journal.jsonl:3"));
    EXPECT_THAT(e.what(), HasSubstr("neither a score nor a proposal"));
  }
  std::ofstream(path) << "{\"something\": \"else\"}\n";
  EXPECT_THROW(Journal{path}, std::runtime_error);
}

TEST(Journal, AFileThatDoesNotReadIsLeftAsItWas) {
  const std::string path = temp_journal("untouched");
  // Damaged early, with a torn last line: nothing is trimmed before the error.
  const std::string damaged =
      "{\"journal\":\"ptune search\",\"version\":1}\nnot json\n{\"score\":\"a\",\"va";
  // Not a journal at all, and no newline: not mistaken for a cut-short first line.
  const std::string other = "some notes the user keeps here";
  for (const std::string& text : {damaged, other}) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    EXPECT_THROW(Journal{path}, std::runtime_error) << text;
    EXPECT_EQ(ptune::test::read_file(path), text);
  }
  // A first line cut short is a crash right after creating the journal: it starts over.
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "{\"journal\":\"ptune se";
  Journal j(path);
  EXPECT_EQ(j.score_count(), 0u);
  EXPECT_GT(j.dropped_bytes(), 0u);
}

TEST(Evaluations, NeverComputesAScoreTwice) {
  const tasks::TaskSpec task = test::sentiment_task();
  const tasks::TaskData data = test::sentiment_data();
  const SearchData d = make_search_data(task, data, {});
  test::SyntheticObjective obj(d);
  const std::string path = temp_journal("cache");
  Candidate c = start_candidate(task);
  {
    Journal j(path);
    Evaluations e(obj, j);
    e.scores(c, Split::Search, {0, 1, 2, 3});
    e.scores(c, Split::Search, {2, 3, 4, 5, 5});  // 2 new, one of them asked twice
    EXPECT_EQ(obj.evaluated, 6u);
    EXPECT_EQ(e.spent(Split::Search), 6u);
    EXPECT_EQ(e.computed(), 6u);
  }
  // A second run on the same journal computes nothing it had, yet counts what it asked for.
  Journal j(path);
  Evaluations e(obj, j);
  const std::vector<double> s = e.scores(c, Split::Search, {0, 1, 2, 3, 4, 5});
  EXPECT_EQ(obj.evaluated, 6u);
  EXPECT_EQ(e.computed(), 0u);
  EXPECT_EQ(e.replayed(), 6u);
  EXPECT_EQ(e.spent_on_search(), 6u);
  EXPECT_EQ(s.size(), 6u);
}

}  // namespace
}  // namespace ptune::search
