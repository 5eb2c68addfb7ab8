// Corpus chrF, matching sacrebleu 2.x CHRF() defaults (char_order 6, word_order 0, beta 2,
// whitespace removed, no eps smoothing).
#include <algorithm>
#include <map>
#include <stdexcept>

#include "eval/metrics/corpus_check.h"
#include "ptune/eval/metrics/text.h"
#include "ptune/util/utf8.h"

namespace ptune::eval {
namespace {

// Per order n: [hyp n-grams, ref n-grams, matches].
using Stats = std::vector<double>;
using CharNgrams = std::vector<std::map<std::string, size_t>>;

bool is_space(std::string_view ch) {
  return ch.size() == 1 && (ch[0] == ' ' || (ch[0] >= '\t' && ch[0] <= '\r'));
}

CharNgrams char_ngrams(std::string_view text, int order) {
  std::vector<std::string_view> chars;
  for (auto ch : util::utf8_chars(text)) {
    if (!is_space(ch)) chars.push_back(ch);  // Python: ''.join(line.split())
  }
  CharNgrams out(order);
  for (int n = 1; n <= order; ++n) {
    for (size_t i = 0; i + n <= chars.size(); ++i) {
      std::string g;
      for (int k = 0; k < n; ++k) g += chars[i + k];
      ++out[n - 1][g];
    }
  }
  return out;
}

Stats match_stats(const CharNgrams& hyp, const CharNgrams& ref) {
  Stats s;
  for (size_t n = 0; n < hyp.size(); ++n) {
    double h = 0, r = 0, m = 0;
    for (const auto& [g, c] : hyp[n]) {
      h += c;
      auto it = ref[n].find(g);
      if (it != ref[n].end()) m += std::min(c, it->second);
    }
    for (const auto& [g, c] : ref[n]) r += c;
    s.insert(s.end(), {h, r, m});
  }
  return s;
}

// sacrebleu CHRF._compute_f_score without eps smoothing: average precision and recall over the
// orders where both sides have n-grams, then F-beta of the averages.
double f_score(const Stats& s, double beta) {
  const double factor = beta * beta;
  double avg_p = 0, avg_r = 0;
  int effective = 0;
  for (size_t i = 0; i + 2 < s.size(); i += 3) {
    const double h = s[i], r = s[i + 1], m = s[i + 2];
    if (h > 0 && r > 0) {
      avg_p += m / h;
      avg_r += m / r;
      ++effective;
    }
  }
  if (effective == 0) return 0.0;
  avg_p /= effective;
  avg_r /= effective;
  if (avg_p + avg_r == 0) return 0.0;
  return 100.0 * (1 + factor) * avg_p * avg_r / (factor * avg_p + avg_r);
}

}  // namespace

double corpus_chrf(const std::vector<std::string>& predictions,
                   const std::vector<std::vector<std::string>>& references,
                   const ChrfOptions& options) {
  detail::check_corpus_sizes("corpus_chrf", predictions.size(), references.size());
  Stats total(3 * options.char_order, 0.0);
  for (size_t i = 0; i < predictions.size(); ++i) {
    const auto hyp = char_ngrams(predictions[i], options.char_order);
    Stats best;
    double best_f = -1.0;
    for (const auto& ref : references[i]) {
      Stats s = match_stats(hyp, char_ngrams(ref, options.char_order));
      const double f = f_score(s, options.beta);
      if (f > best_f) {
        best_f = f;
        best = std::move(s);
      }
    }
    for (size_t k = 0; k < best.size(); ++k) total[k] += best[k];
  }
  return f_score(total, options.beta);
}

}  // namespace ptune::eval
