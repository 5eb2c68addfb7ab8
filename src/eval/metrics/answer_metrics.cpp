// Exact match and token F1 as the SQuAD v1.1 evaluation script; ROUGE-L as rouge-score.
#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

#include "ptune/eval/metrics/text.h"

namespace ptune::eval {
namespace {

std::vector<std::string> split_ws(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

double f1_of_tokens(const std::vector<std::string>& pred, const std::vector<std::string>& gold) {
  if (pred.empty() || gold.empty()) return pred.empty() && gold.empty() ? 1.0 : 0.0;
  std::map<std::string, long> counts;
  for (const auto& t : gold) ++counts[t];
  long same = 0;
  for (const auto& t : pred) {
    if (counts[t]-- > 0) ++same;
  }
  if (same == 0) return 0.0;
  const double p = static_cast<double>(same) / pred.size();
  const double r = static_cast<double>(same) / gold.size();
  return 2 * p * r / (p + r);
}

// rouge-score's default tokenizer: lowercase, every non [a-z0-9] character separates tokens.
std::vector<std::string> rouge_tokens(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      cur += c;
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string normalize_answer(std::string_view s) {
  std::string text;
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (std::ispunct(c)) continue;  // Python's string.punctuation: the ASCII punctuation set
    text += static_cast<char>(std::tolower(c));
  }
  std::string out;
  for (const auto& w : split_ws(text)) {
    if (w == "a" || w == "an" || w == "the") continue;
    out += (out.empty() ? "" : " ") + w;
  }
  return out;
}

double exact_match(std::string_view prediction, const std::vector<std::string>& references) {
  const std::string p = normalize_answer(prediction);
  for (const auto& r : references) {
    if (normalize_answer(r) == p) return 1.0;
  }
  return 0.0;
}

double token_f1(std::string_view prediction, const std::vector<std::string>& references) {
  const auto p = split_ws(normalize_answer(prediction));
  double best = 0.0;
  for (const auto& r : references)
    best = std::max(best, f1_of_tokens(p, split_ws(normalize_answer(r))));
  return best;
}

double rouge_l(std::string_view prediction, const std::vector<std::string>& references) {
  const auto p = rouge_tokens(prediction);
  double best = 0.0;
  for (const auto& ref : references) {
    const auto r = rouge_tokens(ref);
    if (p.empty() || r.empty()) continue;
    const double lcs = static_cast<double>(lcs_length(r, p));
    const double precision = lcs / p.size(), recall = lcs / r.size();
    if (precision + recall > 0)
      best = std::max(best, 2 * precision * recall / (precision + recall));
  }
  return best;
}

}  // namespace ptune::eval
