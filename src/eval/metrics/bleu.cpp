// Corpus BLEU, matching sacrebleu 2.x (tokenize="13a", default smoothing "exp").
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>
#include <stdexcept>

#include "eval/metrics/corpus_check.h"
#include "ptune/eval/metrics/text.h"

namespace ptune::eval {
namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Python's re.sub over one regex with a two-character window, e.g. ([^0-9])([\.,]) -> \1 \2 :
// non-overlapping matches scanned left to right; `emit` writes the replacement of a match.
template <typename Match, typename Emit>
std::string sub_pairs(const std::string& s, Match match, Emit emit) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && match(s[i], s[i + 1])) {
      emit(out, s[i], s[i + 1]);
      i += 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// ([\{-\~\[-\` -\&\(-\+\:-\@\/]): ASCII punctuation except ' , - . (and space itself).
bool is_13a_symbol(char c) {
  return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
         (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
}

using Ngrams = std::map<std::vector<std::string>, size_t>;

Ngrams count_ngrams(const std::vector<std::string>& words, int max_order) {
  Ngrams out;
  for (int n = 1; n <= max_order; ++n) {
    for (size_t i = 0; i + n <= words.size(); ++i) {
      ++out[std::vector<std::string>(words.begin() + i, words.begin() + i + n)];
    }
  }
  return out;
}

std::vector<std::string> words_of(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string preprocess(const std::string& sent, bool lowercase) {
  std::string s = sent;
  // sacrebleu: rstrip() the segment, then lowercase (optionally), then tokenize.
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  if (lowercase) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  return tokenize_13a(s);
}

}  // namespace

std::string tokenize_13a(std::string_view input) {
  std::string line(input);
  replace_all(line, "<skipped>", "");
  replace_all(line, "-\n", "");
  replace_all(line, "\n", " ");
  if (line.find('&') != std::string::npos) {
    replace_all(line, "&quot;", "\"");
    replace_all(line, "&amp;", "&");
    replace_all(line, "&lt;", "<");
    replace_all(line, "&gt;", ">");
  }
  line = " " + line + " ";
  std::string s;
  for (char c : line) {
    if (is_13a_symbol(c)) {
      s += ' ';
      s += c;
      s += ' ';
    } else {
      s += c;
    }
  }
  auto period_comma = [](char c) { return c == '.' || c == ','; };
  s = sub_pairs(
      s, [&](char a, char b) { return !is_digit(a) && period_comma(b); },
      [](std::string& o, char a, char b) { o += a, o += ' ', o += b, o += ' '; });
  s = sub_pairs(
      s, [&](char a, char b) { return period_comma(a) && !is_digit(b); },
      [](std::string& o, char a, char b) { o += ' ', o += a, o += ' ', o += b; });
  s = sub_pairs(
      s, [](char a, char b) { return is_digit(a) && b == '-'; },
      [](std::string& o, char a, char b) { o += a, o += ' ', o += b, o += ' '; });
  std::string out;
  for (const auto& w : words_of(s)) out += (out.empty() ? "" : " ") + w;
  return out;
}

BleuResult corpus_bleu(const std::vector<std::string>& predictions,
                       const std::vector<std::vector<std::string>>& references,
                       const BleuOptions& options) {
  detail::check_corpus_sizes("corpus_bleu", predictions.size(), references.size());
  const int order = options.max_order;
  if (order < 1 || order > 4) throw std::invalid_argument("corpus_bleu: max_order must be 1..4");
  std::vector<double> correct(order, 0), total(order, 0);
  BleuResult r;
  for (size_t i = 0; i < predictions.size(); ++i) {
    const auto hyp = words_of(preprocess(predictions[i], options.lowercase));
    Ngrams ref_max;
    size_t closest_len = 0;
    long closest_diff = -1;
    for (const auto& ref_text : references[i]) {
      const auto ref = words_of(preprocess(ref_text, options.lowercase));
      for (const auto& [ng, c] : count_ngrams(ref, order)) ref_max[ng] = std::max(ref_max[ng], c);
      const long diff = std::labs(static_cast<long>(hyp.size()) - static_cast<long>(ref.size()));
      if (closest_diff == -1 || diff < closest_diff ||
          (diff == closest_diff && ref.size() < closest_len)) {
        closest_diff = diff;
        closest_len = ref.size();
      }
    }
    r.hyp_len += hyp.size();
    r.ref_len += closest_len;
    for (const auto& [ng, c] : count_ngrams(hyp, order)) {
      const auto it = ref_max.find(ng);
      correct[ng.size() - 1] += std::min(c, it == ref_max.end() ? size_t{0} : it->second);
      total[ng.size() - 1] += c;
    }
  }
  // sacrebleu's compute_bleu(): precisions in percent; log(0) is a huge negative, not -inf.
  const double smooth = options.smooth_value >= 0
                            ? options.smooth_value
                            : (options.smoothing == BleuSmoothing::Floor ? 0.1 : 1.0);
  if (r.hyp_len < r.ref_len) {
    r.brevity_penalty =
        r.hyp_len > 0 ? std::exp(1.0 - static_cast<double>(r.ref_len) / r.hyp_len) : 0.0;
  } else {
    r.brevity_penalty = 1.0;
  }
  if (std::all_of(correct.begin(), correct.end(), [](double c) { return c == 0; })) {
    return r;  // no matching n-gram at all: 0, whatever the smoothing
  }
  double smooth_mteval = 1.0;
  double log_sum = 0;
  for (int n = 1; n <= order; ++n) {
    if (options.smoothing == BleuSmoothing::AddK && n > 1) {
      correct[n - 1] += smooth;
      total[n - 1] += smooth;
    }
    if (total[n - 1] == 0) break;
    double p = 0;
    if (correct[n - 1] == 0) {
      if (options.smoothing == BleuSmoothing::Exp) {
        smooth_mteval *= 2;
        p = 100.0 / (smooth_mteval * total[n - 1]);
      } else if (options.smoothing == BleuSmoothing::Floor) {
        p = 100.0 * smooth / total[n - 1];
      }
    } else {
      p = 100.0 * correct[n - 1] / total[n - 1];
    }
    r.precisions[n - 1] = p;
  }
  for (int n = 0; n < order; ++n) {
    log_sum += r.precisions[n] == 0 ? -9999999999.0 : std::log(r.precisions[n]);
  }
  r.score = r.brevity_penalty * std::exp(log_sum / order);
  return r;
}

}  // namespace ptune::eval
