// Evaluation metrics over collected predictions. Pure functions of predictions and gold values,
// so they are tested against hand-computed values and the reference Python packages
// (tests/data/tasks/metrics_golden.py).
//
// Scales: accuracy, F1, precision, recall, exact match, token F1 and ROUGE-L are in [0, 1];
// BLEU and chrF are in [0, 100] as sacrebleu reports them, so numbers compare with published ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ptune::tasks {

// ---- classification -----------------------------------------------------------------------------

struct ClassStats {
  std::string label;
  double precision = 0;  // 0 when the class is never predicted
  double recall = 0;     // 0 when the class never occurs
  double f1 = 0;
  size_t support = 0;  // gold count
};

struct ClassificationReport {
  double accuracy = 0;
  double macro_f1 = 0;  // unweighted mean of per-class F1 over all labels (sklearn "macro")
  std::vector<ClassStats> per_class;
  std::vector<std::vector<size_t>> confusion;  // [gold][predicted]
};

// gold and predicted are label indexes in [0, labels.size()); throws std::invalid_argument on
// a size mismatch or an index out of range.
ClassificationReport classification_report(const std::vector<size_t>& gold,
                                           const std::vector<size_t>& predicted,
                                           const std::vector<std::string>& labels);
double accuracy(const std::vector<size_t>& gold, const std::vector<size_t>& predicted);
double macro_f1(const std::vector<size_t>& gold, const std::vector<size_t>& predicted,
                size_t num_labels);

// ---- short answers (SQuAD v1.1 evaluation script)
// ------------------------------------------------

// Lowercase, drop ASCII punctuation, drop the articles a/an/the, collapse whitespace.
std::string normalize_answer(std::string_view s);
// 1 if the normalized prediction equals any normalized reference.
double exact_match(std::string_view prediction, const std::vector<std::string>& references);
// Bag-of-tokens F1 of normalized text, max over references.
double token_f1(std::string_view prediction, const std::vector<std::string>& references);

// ---- generation
// ----------------------------------------------------------------------------------

enum class BleuSmoothing { None, Exp, Floor, AddK };  // sacrebleu's smooth_method

struct BleuOptions {
  BleuSmoothing smoothing = BleuSmoothing::Exp;  // sacrebleu's default
  double smooth_value = -1;                      // Floor: default 0.1, AddK: default 1
  bool lowercase = false;
  int max_order = 4;
};

struct BleuResult {
  double score = 0;  // 0-100
  double precisions[4] = {0, 0, 0, 0};
  double brevity_penalty = 0;
  size_t hyp_len = 0;
  size_t ref_len = 0;
};

// Corpus BLEU as sacrebleu (tokenizer 13a): n-gram counts summed over the corpus, clipped by the
// max count over each sentence's references, closest reference length (ties to the shorter).
// references[i] are the references of predictions[i].
BleuResult corpus_bleu(const std::vector<std::string>& predictions,
                       const std::vector<std::vector<std::string>>& references,
                       const BleuOptions& options = {});
// The 13a tokenization sacrebleu applies before counting (exposed for tests).
std::string tokenize_13a(std::string_view line);

struct ChrfOptions {
  int char_order = 6;
  double beta = 2.0;
};

// Corpus chrF as sacrebleu's CHRF() default (chrF2, characters without whitespace, per-sentence
// statistics from the best-scoring reference, summed over the corpus). 0-100.
double corpus_chrf(const std::vector<std::string>& predictions,
                   const std::vector<std::vector<std::string>>& references,
                   const ChrfOptions& options = {});

// ROUGE-L F-measure as rouge-score (lowercase, non-alphanumerics split, no stemming), max over
// references. In [0, 1]; the corpus value is the mean over examples.
double rouge_l(std::string_view prediction, const std::vector<std::string>& references);

// ---- language modelling
// --------------------------------------------------------------------------

// Token-weighted mean negative log-likelihood over all tokens of all examples (natural log).
struct NllAccumulator {
  double total_nll = 0;
  size_t tokens = 0;
  void add(const std::vector<double>& token_logprobs);
  double mean_nll() const;    // NaN when no tokens
  double perplexity() const;  // exp(mean_nll)
};

// ---- confidence intervals
// ------------------------------------------------------------------------

struct BootstrapOptions {
  size_t resamples = 1000;
  double confidence = 0.95;
  uint64_t seed = 0;
};

struct ConfidenceInterval {
  double value = 0;  // the metric on the full data
  double low = 0;
  double high = 0;
};

// Percentile bootstrap: the metric is recomputed on `resamples` samples of n example indexes
// drawn with replacement; the bounds are the (1-c)/2 and (1+c)/2 percentiles (linear
// interpolation, as numpy.percentile). `metric` receives the sampled indexes (the full data is
// 0..n-1), so corpus metrics (BLEU, macro-F1 over (prediction, gold) pairs) work as well as means.
template <typename Metric>
ConfidenceInterval bootstrap_ci(size_t n, Metric&& metric, const BootstrapOptions& options = {});

// The mean of per-example values (accuracy as 0/1, exact match, ROUGE-L, ...) with its interval.
ConfidenceInterval bootstrap_mean(const std::vector<double>& values,
                                  const BootstrapOptions& options = {});

namespace detail {
// Calls `visit` with each resample's index list in turn (one buffer, reused: memory stays O(n)).
void for_each_bootstrap_sample(size_t n, const BootstrapOptions& options,
                               const std::function<void(const std::vector<size_t>&)>& visit);
ConfidenceInterval percentile_interval(double value, std::vector<double> stats, double confidence);
}  // namespace detail

template <typename Metric>
ConfidenceInterval bootstrap_ci(size_t n, Metric&& metric, const BootstrapOptions& options) {
  std::vector<size_t> all(n);
  for (size_t i = 0; i < n; ++i) all[i] = i;
  const double value = metric(all);
  std::vector<double> stats;
  stats.reserve(options.resamples);
  detail::for_each_bootstrap_sample(
      n, options, [&](const std::vector<size_t>& sample) { stats.push_back(metric(sample)); });
  return detail::percentile_interval(value, std::move(stats), options.confidence);
}

}  // namespace ptune::tasks
