// The fast scoring path (shared-prefix KV reuse, one state per context, batched and padded)
// against a naive loop of plain forwards, on a tiny random llama.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ptune/eval/scorer.h"
#include "test_model.h"

namespace ptune::eval {
namespace {

using test::tiny_model;

std::vector<int32_t> random_ids(std::mt19937& rng, size_t n, int vocab = 64) {
  std::uniform_int_distribution<int32_t> d(0, vocab - 1);
  std::vector<int32_t> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Contexts = shared prefix (instruction + demos) + a per-example suffix of varied length;
// continuations of 1..4 tokens, some sharing a first token.
std::vector<ScoreRequest> make_requests(size_t n, size_t prefix_len, unsigned seed) {
  std::mt19937 rng(seed);
  const std::vector<int32_t> prefix = random_ids(rng, prefix_len);
  const std::vector<std::vector<int32_t>> labels = {{5}, {7, 9}, {5, 11, 3}, {60, 2, 2, 8}};
  std::vector<ScoreRequest> out;
  for (size_t i = 0; i < n; ++i) {
    ScoreRequest r;
    r.context = prefix;
    auto suffix = random_ids(rng, 1 + (i * 7) % 9);
    r.context.insert(r.context.end(), suffix.begin(), suffix.end());
    r.continuations = labels;
    out.push_back(r);
  }
  return out;
}

double max_abs_diff(const std::vector<std::vector<ContinuationScore>>& a,
                    const std::vector<std::vector<ContinuationScore>>& b) {
  double m = 0;
  EXPECT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].size(), b[i].size());
    for (size_t j = 0; j < a[i].size(); ++j) {
      EXPECT_EQ(a[i][j].token_logprobs.size(), b[i][j].token_logprobs.size());
      for (size_t t = 0; t < a[i][j].token_logprobs.size(); ++t) {
        m = std::max(m, std::abs(a[i][j].token_logprobs[t] - b[i][j].token_logprobs[t]));
      }
    }
  }
  return m;
}

TEST(Scorer, FastPathMatchesNaiveLoop) {
  auto reqs = make_requests(11, 20, 3);
  auto naive = score_naive(tiny_model(), reqs);
  for (bool cache : {true, false}) {
    for (int bs : {1, 4, 16}) {
      ContinuationScorer scorer(tiny_model(), {bs, cache, 4});
      auto fast = scorer.score(reqs);
      double d = max_abs_diff(fast, naive);
      EXPECT_LT(d, 1e-4) << "prefix_cache=" << cache << " batch=" << bs;
      if (cache) {
        EXPECT_EQ(scorer.stats().groups, 1u);
        EXPECT_EQ(scorer.stats().prefix_tokens, 20);
      }
    }
  }
}

TEST(Scorer, MixedGroupsAndOutliers) {
  // Two families of prompts (two demo sets) plus a short outlier with no common prefix.
  auto a = make_requests(6, 16, 1), b = make_requests(5, 24, 2);
  a.insert(a.end(), b.begin(), b.end());
  ScoreRequest lone;
  lone.context = {42};
  lone.continuations = {{1}, {2, 3}};
  a.insert(a.begin() + 3, lone);
  auto naive = score_naive(tiny_model(), a);
  ContinuationScorer scorer(tiny_model(), {3, true, 4});
  auto fast = scorer.score(a);
  EXPECT_LT(max_abs_diff(fast, naive), 1e-4);
  EXPECT_GE(scorer.stats().groups, 2u);
}

TEST(Scorer, PrefixMemoReusesAPrefixAcrossCalls) {
  // Two calls whose contexts share a 20-token head (one candidate's next rung, or another
  // candidate with the same instruction and demos): the second computes no prefix, and both
  // score as without the memo.
  const auto first = make_requests(6, 20, 5);
  auto second = make_requests(11, 20, 5);
  second.erase(second.begin(), second.begin() + 6);
  PrefixMemo memo;
  ScorerOptions o{4, true, 4};
  o.prefixes = &memo;
  ContinuationScorer scorer(tiny_model(), o);
  EXPECT_LT(max_abs_diff(scorer.score(first), score_naive(tiny_model(), first)), 1e-4);
  EXPECT_EQ(scorer.stats().prefix_tokens, 20);
  EXPECT_LT(max_abs_diff(scorer.score(second), score_naive(tiny_model(), second)), 1e-4);
  EXPECT_EQ(scorer.stats().prefix_tokens, 0);
  EXPECT_EQ(scorer.stats().prefix_reused, 20);
  EXPECT_EQ(memo.hits(), 1u);
  EXPECT_EQ(memo.misses(), 1u);
  // Another head is another entry; a budget of one byte keeps only the latest.
  PrefixMemo tiny(1);
  o.prefixes = &tiny;
  ContinuationScorer small(tiny_model(), o);
  small.score(first);
  small.score(make_requests(4, 12, 9));
  small.score(first);
  EXPECT_EQ(tiny.misses(), 3u);
  EXPECT_GT(tiny.bytes(), 0);
}

TEST(Scorer, LogprobsAreNormalised) {
  // Every token as a continuation: probabilities over the vocabulary sum to 1.
  ScoreRequest r;
  r.context = {1, 2, 3};
  for (int32_t t = 0; t < 64; ++t) r.continuations.push_back({t});
  ContinuationScorer scorer(tiny_model());
  auto s = scorer.score({r});
  double total = 0;
  for (const auto& c : s[0]) total += std::exp(c.sum());
  EXPECT_NEAR(total, 1.0, 1e-5);
}

TEST(Scorer, GroupByPrefix) {
  std::vector<std::vector<int32_t>> ctx = {
      {1, 2, 3, 4, 5, 6}, {1, 2, 3, 4, 5, 7, 8}, {1, 2, 3, 4, 5, 9}, {9, 9}, {1, 2, 3, 4, 5}};
  auto g = group_by_prefix(ctx, 2);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].prefix, 4u);  // {1..5} itself must keep one suffix token
  EXPECT_EQ(g[0].members, (std::vector<size_t>{0, 1, 2, 4}));
  EXPECT_EQ(g[1].prefix, 0u);
  EXPECT_EQ(g[1].members, (std::vector<size_t>{3}));
  std::vector<int32_t> x = {1, 2, 3}, y = {1, 2, 4};
  EXPECT_EQ(common_prefix_length({&x, &y}), 2u);
}

// Non-finite log-probs (here from an adapter's NaN keys/values) are an error naming the prompt,
// never scores that argmax turns into the first label.
TEST(Scorer, NonFiniteLogProbsAreAnError) {
  const ModelConfig& c = tiny_model().config();
  PastKV nan_past;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    nan_past.keys.push_back(torch::full({1, c.n_head_kv, 2, c.head_dim}, NAN));
    nan_past.values.push_back(torch::full({1, c.n_head_kv, 2, c.head_dim}, NAN));
  }
  ScorerOptions o;
  o.base = &nan_past;
  ContinuationScorer scorer(tiny_model(), o);
  ScoreRequest r;
  r.context = {1, 2, 3};
  r.continuations = {{4}, {5, 6}};
  try {
    scorer.score({r});
    FAIL() << "NaN scores returned";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("prompt 0"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("NaN or Inf"), std::string::npos) << e.what();
  }
}

// Prompt + the longest continuation must fit the model's context (the tiny model's is 256).
TEST(Scorer, RequestsLongerThanTheContextAreRefused) {
  ContinuationScorer scorer(tiny_model());
  ScoreRequest r;
  r.context = std::vector<int32_t>(254, 1);
  r.continuations = {{1, 2}};
  EXPECT_NO_THROW(scorer.score({r}));
  r.continuations = {{1}, {1, 2, 3}};
  try {
    scorer.score({r});
    FAIL() << "257 tokens scored in a 256-token context";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("request 0 needs 257 tokens"), std::string::npos)
        << e.what();
  }
}

TEST(Scorer, BadRequestsAreClearErrors) {
  ContinuationScorer scorer(tiny_model());
  ScoreRequest empty_ctx;
  empty_ctx.continuations = {{1}};
  EXPECT_THROW(scorer.score({empty_ctx}), std::invalid_argument);
  ScoreRequest bad_id;
  bad_id.context = {1};
  bad_id.continuations = {{64}};
  try {
    scorer.score({bad_id});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("outside the vocabulary"), std::string::npos);
  }
  ScoreRequest empty_cont;
  empty_cont.context = {1};
  empty_cont.continuations = {{}};
  EXPECT_THROW(scorer.score({empty_cont}), std::invalid_argument);
  EXPECT_THROW(ContinuationScorer(tiny_model(), {0, true, 8}), std::invalid_argument);
}

}  // namespace
}  // namespace ptune::eval
