// Reading label scores out of OpenAI-style responses (src/eval/remote_scoring.h): echoed prompt
// log-probs cut at the context's end, first-token alternatives of chat and completions, their
// match to labels, answer-to-label matching, stop strings.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/remote_scoring.h"

namespace ptune::eval::detail {
namespace {

using nlohmann::json;

// A completions response echoing `tokens` (with their log-probs; null for the first), then one
// generated token "!".
json echoed(const std::vector<std::string>& tokens, const std::vector<double>& lps) {
  json t = json::array(), l = json::array(), off = json::array();
  size_t at = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    t.push_back(tokens[i]);
    l.push_back(i == 0 ? json(nullptr) : json(lps[i]));
    off.push_back(at);
    at += tokens[i].size();
  }
  t.push_back("!");
  l.push_back(-0.5);
  off.push_back(at);
  return {{"choices",
           {{{"text", "x"},
             {"logprobs", {{"tokens", t}, {"token_logprobs", l}, {"text_offset", off}}}}}}};
}

TEST(EchoContinuationTest, TakesTheTokensAfterTheContextAndNotTheGeneratedOne) {
  // "Review: fun" + " good" + generated "!".
  const json r = echoed({"Review", ":", " fun", " go", "od"}, {0, -1, -2, -3, -4});
  const auto s = echo_continuation(r, std::string("Review: fun").size(),
                                   std::string("Review: fun good").size());
  ASSERT_TRUE(s);
  EXPECT_EQ(s->token_logprobs, (std::vector<double>{-3, -4}));
  EXPECT_FALSE(s->straddled);
}

TEST(EchoContinuationTest, ATokenAcrossTheBoundaryCountsWithTheContinuation) {
  // "L:" + " yes" tokenized as "L", ": y", "es".
  const json r = echoed({"L", ": y", "es"}, {0, -1, -2});
  const auto s = echo_continuation(r, 2, 6);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->token_logprobs, (std::vector<double>{-1, -2}));
  EXPECT_TRUE(s->straddled);
}

TEST(EchoContinuationTest, NoPromptLogprobsIsUnsetAndMalformedOnesThrow) {
  // An endpoint that ignored echo: only the generated token, at offset 0 of its own text.
  const json ignored = {
      {"choices",
       {{{"text", "!"},
         {"logprobs", {{"tokens", {"!"}}, {"token_logprobs", {-0.1}}, {"text_offset", {20}}}}}}}};
  EXPECT_FALSE(echo_continuation(ignored, 10, 20));
  EXPECT_FALSE(
      echo_continuation(json{{"choices", {{{"text", "a"}, {"logprobs", nullptr}}}}}, 1, 2));
  EXPECT_FALSE(echo_continuation(json::object(), 1, 2));
  json bad = echoed({"a", "b"}, {0, -1});
  bad["choices"][0]["logprobs"]["text_offset"].erase(0);
  EXPECT_THROW(echo_continuation(bad, 1, 2), std::runtime_error);
  json null_lp = echoed({"a", "b"}, {0, -1});
  null_lp["choices"][0]["logprobs"]["token_logprobs"][1] = nullptr;
  EXPECT_THROW(echo_continuation(null_lp, 1, 2), std::runtime_error);
}

TEST(FirstTokenTest, ReadsChatAndCompletionsAlternativesBestFirst) {
  const json chat = {{"choices",
                      {{{"logprobs",
                         {{"content",
                           {{{"token", "pos"},
                             {"logprob", -0.2},
                             {"top_logprobs",
                              {{{"token", "neg"}, {"logprob", -2.0}},
                               {{"token", "pos"}, {"logprob", -0.2}}}}}}}}}}}}};
  const auto c = first_token_alternatives(chat, /*chat=*/true);
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)[0].first, "pos");
  const json comp = {
      {"choices", {{{"logprobs", {{"top_logprobs", {{{" Pos", -1.0}, {" neg", -0.5}}}}}}}}}};
  const auto k = first_token_alternatives(comp, /*chat=*/false);
  ASSERT_TRUE(k);
  EXPECT_EQ((*k)[0].first, " neg");
  EXPECT_FALSE(first_token_alternatives(json{{"choices", {{{"logprobs", nullptr}}}}}, true));
  EXPECT_FALSE(first_token_alternatives(json{{"choices", json::array()}}, false));
}

TEST(FirstTokenTest, ALabelScoresTheMassOfTheTokensItStartsWith) {
  const std::vector<std::pair<std::string, double>> alt = {
      {" Pos", std::log(0.3)}, {"pos", std::log(0.2)}, {" neg", std::log(0.1)}, {" ", -1}};
  EXPECT_NEAR(first_token_score(alt, " positive"), std::log(0.5), 1e-12);
  EXPECT_NEAR(first_token_score(alt, " negative"), std::log(0.1), 1e-12);
  EXPECT_TRUE(std::isinf(first_token_score(alt, " neutral")));
}

TEST(MatchAnswerTest, PrefersTheLongestLabelTheAnswerStartsWithThenTheFirstNamed) {
  const std::vector<std::string> labels = {" card", " card arrival", " refund"};
  EXPECT_EQ(match_answer("Card arrival.", labels), 1u);
  EXPECT_EQ(match_answer("**card** it is", labels), 0u);
  EXPECT_EQ(match_answer("I think: refund, not card", labels), 2u);
  EXPECT_FALSE(match_answer("cardboard", labels));  // not a whole word
  EXPECT_FALSE(match_answer("", labels));
}

TEST(ResponseTextTest, ReadsEitherShapeAndCutsAtStops) {
  EXPECT_EQ(response_text(json{{"choices", {{{"text", "a b"}}}}}, false), "a b");
  EXPECT_EQ(response_text(json{{"choices", {{{"message", {{"content", "hi"}}}}}}}, true), "hi");
  EXPECT_THROW(response_text(json{{"choices", {{{"text", 3}}}}}, false), std::runtime_error);
  EXPECT_THROW(response_text(json::object(), true), std::runtime_error);
  EXPECT_EQ(cut_at_stop("answer\nQ: next", {"\n", "Q:"}), "answer");
  EXPECT_EQ(cut_at_stop("answer", {"\n"}), "answer");
}

}  // namespace
}  // namespace ptune::eval::detail
