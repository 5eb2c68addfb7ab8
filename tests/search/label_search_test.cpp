// Label search: the word choice on given log-probs (indicative, fitted to balanced accuracy,
// never one word for two labels), the search around it with a fake model (candidates from
// neighbours, budget charged, raced as verbalizers), and the real model's neighbours and
// log-probs through ModelObjective.
#include "ptune/search/label_search.h"

#include <gtest/gtest.h>

#include <cctype>
#include <map>

#include "ptune/search/model_objective.h"
#include "ptune/search/search.h"
#include "search_fixture.h"
#include "test_model.h"

namespace ptune::search {
namespace {

// Two "pos" then two "neg" examples; columns are words.
const std::vector<size_t> kGold = {0, 0, 1, 1};

TEST(LabelSearch, PicksTheMostIndicativeWordPerLabel) {
  // words:                         good  bad   the   great awful
  const std::vector<std::vector<double>> lp = {
      {-4, -5, -1, -3, -9}, {-4, -5, -1, -3, -9}, {-6, -5.5, -1, -8, -3}, {-6, -5.5, -1, -8, -3}};
  const WordChoice c = choose_label_words(lp, kGold, {{0, 3, 2}, {1, 4, 2}});
  EXPECT_EQ(c.indicative, (std::vector<size_t>{3, 4}));  // great, awful; "the" says nothing
  // From good / bad, the gold label's likelihood rises most with great, then awful.
  EXPECT_EQ(c.fitted, (std::vector<size_t>{3, 4}));
}

TEST(LabelSearch, IgnoresIndicativeWordsTooRareToBeAnswers) {
  // p1 is the most indicative word for pos (-10 vs -14) but 8 nats below p2 after positive
  // examples: not a plausible answer. p2 (-2 vs -4) is chosen, and classifies every example.
  //                                         p1   p2   n1
  const std::vector<std::vector<double>> lp = {
      {-10, -2, -3}, {-10, -2, -3}, {-14, -4, -1}, {-14, -4, -1}};
  const WordChoice c = choose_label_words(lp, kGold, {{0, 1}, {2}});
  EXPECT_EQ(c.indicative, (std::vector<size_t>{1, 2}));
  EXPECT_EQ(c.fitted, (std::vector<size_t>{1, 2}));  // from p1 / n1: p2 is the better word
}

TEST(LabelSearch, FittedStartsFromTheCurrentWordsAndKeepsThemWhenBest) {
  // The current words (first candidates) already separate the labels best.
  //                                          cur0 cur1  x
  const std::vector<std::vector<double>> lp = {
      {-1, -6, -2}, {-1, -6, -2}, {-6, -1, -2}, {-6, -1, -2}};
  const WordChoice c = choose_label_words(lp, kGold, {{0, 2}, {1, 2}});
  EXPECT_EQ(c.fitted, (std::vector<size_t>{0, 1}));
}

TEST(LabelSearch, NeverGivesTwoLabelsOneWord) {
  // Word 0 is both labels' only candidate: no verbalizer rather than a collision.
  const std::vector<std::vector<double>> lp = {{-1}, {-1}, {-2}, {-2}};
  const WordChoice none = choose_label_words(lp, kGold, {{0}, {0}});
  EXPECT_TRUE(none.indicative.empty());
  EXPECT_TRUE(none.fitted.empty());
  // With a second word the label with the clearer preference keeps word 0.
  const std::vector<std::vector<double>> lp2 = {{-1, -5}, {-1, -5}, {-3, -4}, {-3, -4}};
  const WordChoice c = choose_label_words(lp2, kGold, {{0, 1}, {1, 0}});
  ASSERT_EQ(c.indicative.size(), 2u);
  EXPECT_NE(c.indicative[0], c.indicative[1]);
  EXPECT_NE(c.fitted[0], c.fitted[1]);
  EXPECT_EQ(c.indicative[0], 0u);
}

// A model where "great" follows positive reviews and "awful" negative ones; neighbours are a
// fixed table.
class FakeWords : public LabelWords {
 public:
  explicit FakeWords(const SearchData& d) : data_(d) {}
  std::vector<std::string> neighbour_words(const std::string& text, size_t n) override {
    const std::map<std::string, std::vector<std::string>> table = {
        {"good", {"great", "nice", "the"}}, {"bad", {"awful", "poor", "the"}}};
    auto it = table.find(text);
    std::vector<std::string> out;
    if (it == table.end()) return out;
    for (size_t i = 0; i < n && i < it->second.size(); ++i) out.push_back(it->second[i]);
    return out;
  }
  std::vector<std::vector<double>> word_log_probs(const Candidate&, Split split,
                                                  const std::vector<size_t>& indices,
                                                  const std::vector<std::string>& words) override {
    EXPECT_EQ(split, Split::Pool);
    std::vector<std::vector<double>> out;
    for (size_t i : indices) {
      const bool pos = data_.pool.at(i).get("label") == "pos";
      std::vector<double> row;
      for (const std::string& w : words) {
        if (w == "great")
          row.push_back(pos ? -2 : -9);
        else if (w == "awful")
          row.push_back(pos ? -9 : -2);
        else if (w == "the")
          row.push_back(-1);
        else
          row.push_back(-6);
      }
      out.push_back(row);
    }
    ++calls;
    return out;
  }
  int calls = 0;

 private:
  const SearchData& data_;
};

TEST(LabelSearch, FindsWordsFromNeighboursAndChargesTheBudget) {
  test::SyntheticSearch s("label_finds");
  const tasks::TaskSpec& task = s.task;
  const SearchData& d = s.data;
  Evaluations& e = s.evals;
  FakeWords words(d);
  LabelSearchOptions o;
  o.examples_per_label = 5;
  const LabelSearchResult r = search_label_words(task, d, start_candidate(task), words, e, o);
  ASSERT_FALSE(r.verbalizers.empty());
  std::vector<std::vector<std::string>> expected;
  for (const tasks::LabelSpec& l : task.labels)
    expected.push_back({l.name == "pos" ? "great" : "awful"});
  EXPECT_EQ(r.verbalizers[0], expected);
  EXPECT_EQ(r.examples, 10u);
  EXPECT_EQ(e.spent(Split::Pool), 10u);
  // Too many labels for a label search: skipped, nothing spent.
  LabelSearchOptions few = o;
  few.max_labels = 1;
  EXPECT_TRUE(
      search_label_words(task, d, start_candidate(task), words, e, few).verbalizers.empty());
  EXPECT_EQ(words.calls, 1);
}

TEST(LabelSearch, ItsVerbalizersAreRaced) {
  test::SyntheticSearch s("label_raced");
  FakeWords words(s.data);
  SearchOptions o;
  o.budget = 1500;
  o.halving.first = 16;
  const SearchResult r = run_search(s.task, s.data, s.evals, nullptr, &words, o);
  bool raced = false;
  for (const Entry& entry : r.leaderboard)
    raced = raced || entry.candidate.origin == "verbalizer: label search (indicative)";
  EXPECT_TRUE(raced);
}

TEST(LabelSearch, RealModelNeighboursAndLogProbs) {
  std::string path;
  if (!ptune::test::default_model(&path)) GTEST_SKIP() << "default model missing";
  const ptune::test::RealModel& m = *ptune::test::real_model();
  const tasks::TaskSpec task = test::sentiment_task();
  const tasks::TaskData data = test::sentiment_data(40, 10, 10);
  SplitOptions so;
  so.search_size = 8;
  const SearchData d = make_search_data(task, data, so);
  ModelObjective obj(task, d, *m.model, *m.tokenizer, {}, "test");
  const std::vector<std::string> near = obj.neighbour_words("good", 8);
  ASSERT_EQ(near.size(), 8u);
  for (const std::string& w : near) {
    EXPECT_NE(w, "good");
    for (char ch : w) EXPECT_TRUE(std::isalpha(static_cast<unsigned char>(ch))) << w;
    EXPECT_EQ(m.tokenizer->encode(" " + w, false, false).size(), 1u) << w;  // one token
  }
  // The log-probs are those rank classification scores: equal to run_eval's label scores.
  const Candidate start = start_candidate(task);
  const auto lp = obj.word_log_probs(start, Split::Pool, {0, 1}, {"good", "bad"});
  ASSERT_EQ(lp.size(), 2u);
  eval::EvalOptions eo;
  eo.split = "test";
  tasks::TaskData two;
  two.train = d.pool;
  two.test = {d.pool[0], d.pool[1]};
  const eval::EvalResult r = eval::run_eval(task, two, *m.model, *m.tokenizer, eo);
  for (size_t i = 0; i < 2; ++i) {
    const auto& scores = r.records[i].at("label_scores");
    EXPECT_NEAR(lp[i][0], scores.at("pos").at("score").get<double>(), 1e-4);
    EXPECT_NEAR(lp[i][1], scores.at("neg").at("score").get<double>(), 1e-4);
  }
}

}  // namespace
}  // namespace ptune::search
