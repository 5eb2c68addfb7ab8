// Metrics of generated text against references. Pure functions, tested against hand-computed
// values and the reference Python packages (tests/data/tasks/metrics_golden.py).
//
// Scales: exact match, token F1 and ROUGE-L are in [0, 1]; BLEU and chrF are in [0, 100] as
// sacrebleu reports them, so numbers compare with published ones.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ptune::eval {

// ---- short answers (SQuAD v1.1 evaluation script) ----------------------------------------------

// Lowercase, drop ASCII punctuation, drop the articles a/an/the, collapse whitespace.
std::string normalize_answer(std::string_view s);
// 1 if the normalized prediction equals any normalized reference.
double exact_match(std::string_view prediction, const std::vector<std::string>& references);
// Bag-of-tokens F1 of normalized text, max over references.
double token_f1(std::string_view prediction, const std::vector<std::string>& references);

// ---- BLEU (sacrebleu) --------------------------------------------------------------------------

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

// ---- chrF (sacrebleu) --------------------------------------------------------------------------

struct ChrfOptions {
  int char_order = 6;
  double beta = 2.0;
};

// Corpus chrF as sacrebleu's CHRF() default (chrF2, characters without whitespace, per-sentence
// statistics from the best-scoring reference, summed over the corpus). 0-100.
double corpus_chrf(const std::vector<std::string>& predictions,
                   const std::vector<std::vector<std::string>>& references,
                   const ChrfOptions& options = {});

// ---- ROUGE-L (rouge-score) ---------------------------------------------------------------------

// ROUGE-L F-measure as rouge-score (lowercase, non-alphanumerics split, no stemming), max over
// references. In [0, 1]; the corpus value is the mean over examples.
double rouge_l(std::string_view prediction, const std::vector<std::string>& references);

}  // namespace ptune::eval
