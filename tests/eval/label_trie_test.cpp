// Many multi-token labels sharing their first tokens (intent routing: " card ...", " transfer
// ..."): the trie step feeds each distinct head once and its scores equal a plain forward per
// (context, label), on the tiny model (with an adapter's past, several node budgets) and on
// SmolLM2 with real intent names.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "eval/label_trie.h"
#include "ptune/eval/scorer.h"
#include "test_model.h"
#include "test_util.h"

namespace ptune::eval {
namespace {

using test::tiny_model;

double max_diff(const std::vector<std::vector<ContinuationScore>>& a,
                const std::vector<std::vector<ContinuationScore>>& b) {
  double m = 0;
  EXPECT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    EXPECT_EQ(a[i].size(), b[i].size());
    for (size_t j = 0; j < a[i].size() && j < b[i].size(); ++j) {
      EXPECT_EQ(a[i][j].token_logprobs.size(), b[i][j].token_logprobs.size());
      for (size_t t = 0; t < a[i][j].token_logprobs.size(); ++t) {
        m = std::max(m, std::abs(a[i][j].token_logprobs[t] - b[i][j].token_logprobs[t]));
      }
    }
  }
  return m;
}

TEST(LabelTrie, FeedsEachDistinctHeadOnce) {
  const detail::LabelTrie t = detail::LabelTrie::build({{5, 6, 7}, {5, 6, 8}, {5, 9}, {3}});
  ASSERT_EQ(t.size(), 2u);  // (5) and (5, 6): the last tokens are only read
  EXPECT_EQ(t.token, (std::vector<int32_t>{5, 6}));
  EXPECT_EQ(t.parent, (std::vector<int32_t>{-1, 0}));
  EXPECT_EQ(t.depth, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(t.path[0], (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(t.path[1], (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(t.path[2], (std::vector<int32_t>{0}));
  EXPECT_TRUE(t.path[3].empty());
}

// 40 labels of 1-5 tokens over 3 first tokens, after contexts of varied length.
std::vector<ScoreRequest> intent_like_requests(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> tok(0, 63), head(0, 2), len(1, 5);
  std::vector<std::vector<int32_t>> labels;
  for (int l = 0; l < 40; ++l) {
    std::vector<int32_t> c = {10 + head(rng)};
    for (int k = len(rng); k > 1; --k) c.push_back(tok(rng));
    labels.push_back(c);
  }
  std::vector<ScoreRequest> out;
  for (int i = 0; i < 7; ++i) {
    ScoreRequest r;
    r.context = {1, 2, 3, 4, 5, 6, 7, 8};  // a shared instruction
    for (int k = 0; k < 1 + (i * 5) % 8; ++k) r.context.push_back(tok(rng));
    r.continuations = labels;
    out.push_back(r);
  }
  return out;
}

TEST(LabelTrie, ScoresEqualNaiveForManySharedHeadLabels) {
  const auto reqs = intent_like_requests(7);
  const auto naive = score_naive(tiny_model(), reqs);
  for (int64_t budget : {0, 1, 60, 150}) {  // all rows at once, one row each, a few per forward
    for (int batch : {1, 3, 16}) {
      ScorerOptions o;
      o.batch_size = batch;
      o.min_prefix = 4;
      o.trie_nodes = budget;
      ContinuationScorer scorer(tiny_model(), o);
      EXPECT_LT(max_diff(scorer.score(reqs), naive), 1e-4)
          << "trie_nodes " << budget << " batch " << batch;
    }
  }
}

TEST(LabelTrie, ScoresEqualNaiveAfterAnAdaptersPast) {
  // A prompt adapter's keys/values before every context: positions count them too.
  const std::vector<int32_t> adapter = {30, 31, 32, 33, 34};
  const PastKV base = compute_prefix(tiny_model(), adapter);
  auto reqs = intent_like_requests(11);
  auto with_adapter = reqs;
  for (auto& r : with_adapter) r.context.insert(r.context.begin(), adapter.begin(), adapter.end());
  ScorerOptions o;
  o.base = &base;
  o.batch_size = 4;
  EXPECT_LT(max_diff(ContinuationScorer(tiny_model(), o).score(reqs),
                     score_naive(tiny_model(), with_adapter)),
            1e-4);
}

TEST(LabelTrie, RealModelIntentNamesEqualNaive) {
  std::string path;
  if (!test::default_model(&path)) GTEST_SKIP() << "default model missing";
  const test::RealModel& m = *test::real_model();
  const std::vector<std::string> intents = {" card payment not recognised",
                                            " card arrival",
                                            " card not working",
                                            " card swallowed",
                                            " balance not updated after bank transfer",
                                            " balance not updated after cheque or cash "
                                            "deposit",
                                            " transfer not received by recipient",
                                            " transfer timing",
                                            " transfer fee charged",
                                            " top up failed",
                                            " top up reverted",
                                            " cash withdrawal charge",
                                            " exchange rate"};
  std::vector<std::vector<int32_t>> labels;
  for (const std::string& s : intents) labels.push_back(m.tokenizer->encode(s, false, false));
  std::vector<ScoreRequest> reqs;
  for (const char* text :
       {"I was charged twice for one coffee, what is this payment?",
        "My transfer from yesterday has still not arrived.", "Why did my top-up get cancelled?"}) {
    ScoreRequest r;
    r.context = m.tokenizer->encode(std::string("Classify the banking question.\nQuestion: ") +
                                    text + "\nIntent:");
    r.continuations = labels;
    reqs.push_back(r);
  }
  ContinuationScorer scorer(*m.model);
  EXPECT_LT(max_diff(scorer.score(reqs), score_naive(*m.model, reqs)), 1e-4);
}

}  // namespace
}  // namespace ptune::eval
