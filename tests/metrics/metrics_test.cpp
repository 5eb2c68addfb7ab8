// Metric values: hand-computed, or from the reference packages via
// tests/data/tasks/metrics_golden.py (/opt/ptune-ref/bin/python, sacrebleu 2.6.0,
// rouge-score 0.1.2, numpy 2.4).
#include <gtest/gtest.h>

#include <cmath>

#include "ptune/eval/metrics/bootstrap.h"
#include "ptune/eval/metrics/classification.h"
#include "ptune/eval/metrics/nll.h"
#include "ptune/eval/metrics/text.h"

namespace ptune::eval {
namespace {

// The corpus metrics_golden.py scores.
const std::vector<std::string> kHyps = {
    "The cat sat on the mat.",
    "Your refund was issued on 3-4 May, it should arrive in 5 days!",
    "We are sorry about the delay.",
    "Please reset your password using the link.",
};
const std::vector<std::vector<std::string>> kRefs = {
    {"The cat is sitting on the mat."},
    {"We issued your refund on 3-4 May; expect it within 5 business days."},
    {"Sorry for the delay with your order.", "We apologise for the delay."},
    {"You can reset the password with the link we sent."},
};

TEST(ClassificationMetrics, HandComputedReport) {
  // Confusion [gold][pred]: class 0 -> {0,1}, class 1 -> {1,1}, class 2 -> {2,0}.
  const std::vector<size_t> gold = {0, 0, 1, 1, 2, 2};
  const std::vector<size_t> pred = {0, 1, 1, 1, 2, 0};
  const auto r = classification_report(gold, pred, {"a", "b", "c"});
  EXPECT_DOUBLE_EQ(r.accuracy, 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(r.per_class[0].precision, 0.5);
  EXPECT_DOUBLE_EQ(r.per_class[0].recall, 0.5);
  EXPECT_DOUBLE_EQ(r.per_class[1].precision, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.per_class[1].recall, 1.0);
  EXPECT_NEAR(r.per_class[1].f1, 0.8, 1e-12);
  EXPECT_DOUBLE_EQ(r.per_class[2].precision, 1.0);
  EXPECT_NEAR(r.per_class[2].f1, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(r.macro_f1, (0.5 + 0.8 + 2.0 / 3.0) / 3.0, 1e-12);
  EXPECT_EQ(r.per_class[2].support, 2u);
  EXPECT_EQ(r.confusion[0][1], 1u);
  EXPECT_EQ(r.confusion[2][0], 1u);
  EXPECT_EQ(r.confusion[1][1], 2u);
  EXPECT_DOUBLE_EQ(accuracy(gold, pred), 4.0 / 6.0);
  EXPECT_NEAR(macro_f1(gold, pred, 3), r.macro_f1, 1e-15);
}

TEST(ClassificationMetrics, NeverPredictedClassCountsAsZeroF1) {
  const auto r = classification_report({0, 1}, {0, 0}, {"x", "y"});
  EXPECT_DOUBLE_EQ(r.per_class[1].precision, 0.0);
  EXPECT_DOUBLE_EQ(r.per_class[1].f1, 0.0);
  EXPECT_NEAR(r.macro_f1, (2.0 / 3.0) / 2.0, 1e-12);
}

TEST(ClassificationMetrics, RejectsMismatchedInput) {
  EXPECT_THROW(accuracy({0, 1}, {0}), std::invalid_argument);
  EXPECT_THROW(classification_report({0, 3}, {0, 0}, {"x", "y"}), std::invalid_argument);
}

TEST(AnswerMetrics, SquadNormalisation) {
  EXPECT_EQ(normalize_answer("  The Eiffel-Tower!  "), "eiffeltower");
  EXPECT_EQ(normalize_answer("An apple, a day"), "apple day");
  EXPECT_EQ(normalize_answer("theatre"), "theatre");  // articles only as whole words
  EXPECT_DOUBLE_EQ(exact_match("an Apple.", {"apple"}), 1.0);
  EXPECT_DOUBLE_EQ(exact_match("apples", {"apple", "pear"}), 0.0);
  EXPECT_DOUBLE_EQ(exact_match("Pear", {"apple", "pear"}), 1.0);
}

TEST(AnswerMetrics, TokenF1) {
  // pred {big, red, barn}, gold {red, barn}: P 2/3, R 1 -> F1 0.8.
  EXPECT_NEAR(token_f1("the big red barn", {"red barn"}), 0.8, 1e-12);
  EXPECT_NEAR(token_f1("red barn", {"blue sky", "a red barn"}), 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(token_f1("nothing", {"else"}), 0.0);
  EXPECT_DOUBLE_EQ(token_f1("the", {"a"}), 1.0);  // both normalise to empty
  // Repeated tokens are clipped: pred {a1, a1} vs gold {a1}: P 1/2, R 1.
  EXPECT_NEAR(token_f1("x x", {"x"}), 2.0 / 3.0, 1e-12);
}

TEST(Bleu, Tokenizer13aMatchesSacrebleu) {
  EXPECT_EQ(tokenize_13a("Hello, world. It's 3.5-4 items (x) & \"y\" -- ok?"),
            "Hello , world . It's 3.5 - 4 items ( x ) & \" y \" -- ok ?");
}

TEST(Bleu, CorpusMatchesSacrebleu) {
  const auto b = corpus_bleu(kHyps, kRefs);
  EXPECT_NEAR(b.score, 23.7563384844, 1e-8);
  EXPECT_NEAR(b.brevity_penalty, 0.9259610786, 1e-9);
  EXPECT_EQ(b.hyp_len, 39u);
  EXPECT_EQ(b.ref_len, 42u);
  BleuOptions addk;
  addk.smoothing = BleuSmoothing::AddK;
  EXPECT_NEAR(corpus_bleu(kHyps, kRefs, addk).score, 26.4693803351, 1e-8);
}

TEST(Bleu, SmoothingMethodsMatchSacrebleu) {
  const std::vector<std::string> hyp = {"the dog barked at the mailman today"};
  const std::vector<std::vector<std::string>> ref = {{"the dog growled at the postman today"}};
  auto score = [&](BleuSmoothing s) {
    BleuOptions o;
    o.smoothing = s;
    return corpus_bleu(hyp, ref, o).score;
  };
  EXPECT_NEAR(score(BleuSmoothing::Exp), 19.6407325450, 1e-8);
  EXPECT_NEAR(score(BleuSmoothing::None), 0.0, 1e-12);
  EXPECT_NEAR(score(BleuSmoothing::Floor), 10.4455227307, 1e-8);
  EXPECT_NEAR(score(BleuSmoothing::AddK), 31.7828970447, 1e-8);
}

TEST(Bleu, ClipsRepeatedNgrams) {
  EXPECT_NEAR(corpus_bleu({"the the the the"}, {{"the cat sat on the mat"}}).score, 11.5215909923,
              1e-8);
  EXPECT_DOUBLE_EQ(corpus_bleu({"zzz"}, {{"the cat"}}).score, 0.0);
}

TEST(Chrf, CorpusMatchesSacrebleu) {
  EXPECT_NEAR(corpus_chrf(kHyps, kRefs), 40.9963744459, 1e-8);
  // Character n-grams are code points, not bytes.
  EXPECT_NEAR(corpus_chrf({"café crème brûlée"}, {{"crème brûlée au café"}}), 70.4192086045, 1e-8);
  EXPECT_NEAR(corpus_chrf({"same text"}, {{"same text"}}), 100.0, 1e-9);
}

TEST(RougeL, MatchesRougeScore) {
  const double golden[] = {0.7692307692, 0.6428571429, 0.5454545455, 0.4705882353};
  for (size_t i = 0; i < kHyps.size(); ++i) {
    EXPECT_NEAR(rouge_l(kHyps[i], kRefs[i]), golden[i], 1e-9) << kHyps[i];
  }
  EXPECT_DOUBLE_EQ(rouge_l("", {"anything"}), 0.0);
}

TEST(LanguageModelMetrics, TokenWeightedNll) {
  NllAccumulator acc;
  EXPECT_TRUE(std::isnan(acc.mean_nll()));
  acc.add({-1.0, -2.0});
  acc.add({-3.0});
  EXPECT_DOUBLE_EQ(acc.mean_nll(), 2.0);
  EXPECT_NEAR(acc.perplexity(), std::exp(2.0), 1e-12);
}

TEST(Bootstrap, PercentilesInterpolateLikeNumpy) {
  // numpy.percentile(range(1, 11), [2.5, 97.5]) == [1.225, 9.775]
  const auto ci = detail::percentile_interval(5.5, {10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 0.95);
  EXPECT_NEAR(ci.low, 1.225, 1e-12);
  EXPECT_NEAR(ci.high, 9.775, 1e-12);
  EXPECT_DOUBLE_EQ(ci.value, 5.5);
}

TEST(Bootstrap, MeanIntervalIsSeededAndBracketsTheValue) {
  std::vector<double> correct;
  for (int i = 0; i < 200; ++i) correct.push_back(i % 4 == 0 ? 0.0 : 1.0);  // accuracy 0.75
  const auto a = bootstrap_mean(correct);
  const auto b = bootstrap_mean(correct);
  EXPECT_DOUBLE_EQ(a.value, 0.75);
  EXPECT_DOUBLE_EQ(a.low, b.low);
  EXPECT_DOUBLE_EQ(a.high, b.high);
  EXPECT_LT(a.low, 0.75);
  EXPECT_GT(a.high, 0.75);
  // Binomial standard error sqrt(.75*.25/200) = 0.0306: the 95% interval is about +-0.06.
  EXPECT_NEAR(a.high - a.low, 2 * 1.96 * 0.0306, 0.03);
  BootstrapOptions other;
  other.seed = 7;
  const auto c = bootstrap_mean(correct, other);
  EXPECT_TRUE(c.low != a.low || c.high != a.high) << "the seed should change the resamples";
  const auto constant = bootstrap_mean(std::vector<double>(50, 0.3));
  EXPECT_NEAR(constant.low, 0.3, 1e-12);
  EXPECT_NEAR(constant.high, 0.3, 1e-12);
}

TEST(Bootstrap, CorpusMetricOverPairs) {
  const std::vector<size_t> gold = {0, 0, 1, 1, 2, 2, 0, 1, 2, 0};
  const std::vector<size_t> pred = {0, 1, 1, 1, 2, 0, 0, 1, 2, 2};
  BootstrapOptions opt;
  opt.resamples = 300;
  const auto ci = bootstrap_ci(
      gold.size(),
      [&](const std::vector<size_t>& idx) {
        std::vector<size_t> g, p;
        for (size_t i : idx) g.push_back(gold[i]), p.push_back(pred[i]);
        return macro_f1(g, p, 3);
      },
      opt);
  EXPECT_NEAR(ci.value, macro_f1(gold, pred, 3), 1e-15);
  EXPECT_LE(ci.low, ci.value);
  EXPECT_GE(ci.high, ci.value);
  EXPECT_GT(ci.high - ci.low, 0.05);
}

}  // namespace
}  // namespace ptune::eval
