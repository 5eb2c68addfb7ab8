// Label scores from OpenAI-style responses (contract in remote_scoring.h).
#include "remote_scoring.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace ptune::eval::detail {

using nlohmann::json;

namespace {

const json* find_path(const json& j, std::initializer_list<const char*> keys) {
  const json* at = &j;
  for (const char* k : keys) {
    if (!at->is_object() || !at->contains(k)) return nullptr;
    at = &(*at)[k];
  }
  return at;
}

const json* first_choice(const json& response) {
  const json* choices = find_path(response, {"choices"});
  if (choices == nullptr || !choices->is_array() || choices->empty()) return nullptr;
  return &(*choices)[0];
}

std::string lower(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Lower-cased, without leading whitespace, quotes and markdown emphasis.
std::string normalized(const std::string& s) {
  size_t a = 0;
  while (a < s.size() && (std::isspace(static_cast<unsigned char>(s[a])) || s[a] == '"' ||
                          s[a] == '\'' || s[a] == '*' || s[a] == '`')) {
    ++a;
  }
  std::string out = lower(s.substr(a));
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
  return out;
}

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Whether `word` occurs in `text` at `at` as a whole word.
bool whole_word_at(const std::string& text, const std::string& word, size_t at) {
  if (text.compare(at, word.size(), word) != 0) return false;
  const bool left = at == 0 || !word_char(text[at - 1]) || !word_char(word.front());
  const size_t end = at + word.size();
  const bool right = end == text.size() || !word_char(text[end]) || !word_char(word.back());
  return left && right;
}

}  // namespace

std::optional<EchoScore> echo_continuation(const json& response, size_t context_bytes,
                                           size_t total_bytes) {
  const json* choice = first_choice(response);
  const json* lp = choice ? find_path(*choice, {"logprobs"}) : nullptr;
  if (lp == nullptr || !lp->is_object()) return std::nullopt;
  const json* tokens = find_path(*lp, {"tokens"});
  const json* logprobs = find_path(*lp, {"token_logprobs"});
  const json* offsets = find_path(*lp, {"text_offset"});
  if (!tokens || !logprobs || !offsets || !tokens->is_array() || !logprobs->is_array() ||
      !offsets->is_array() || tokens->size() != logprobs->size() ||
      tokens->size() != offsets->size()) {
    throw std::runtime_error(
        "the echoed logprobs need tokens, token_logprobs and text_offset of one length");
  }
  EchoScore out;
  for (size_t t = 0; t < tokens->size(); ++t) {
    const json& tok = (*tokens)[t];
    const json& off = (*offsets)[t];
    if (!tok.is_string() || !off.is_number_integer() || off.get<int64_t>() < 0) {
      throw std::runtime_error("the echoed logprobs have a token without text or text_offset");
    }
    const size_t start = off.get<size_t>();
    const size_t end = start + tok.get_ref<const std::string&>().size();
    if (end <= context_bytes || start >= total_bytes) continue;  // context, or generated
    const json& v = (*logprobs)[t];
    if (!v.is_number()) {
      // The prompt's first token has no log-prob; the continuation's always should.
      throw std::runtime_error("the echoed logprobs have no log-prob for continuation token " +
                               std::to_string(t));
    }
    if (start < context_bytes) out.straddled = true;
    out.token_logprobs.push_back(v.get<double>());
  }
  // An endpoint that ignores echo returns only the generated token's log-prob: not the prompt's.
  if (out.token_logprobs.empty()) return std::nullopt;
  return out;
}

std::optional<std::vector<std::pair<std::string, double>>> first_token_alternatives(
    const json& response, bool chat) {
  const json* choice = first_choice(response);
  if (choice == nullptr) return std::nullopt;
  std::vector<std::pair<std::string, double>> out;
  if (chat) {
    const json* content = find_path(*choice, {"logprobs", "content"});
    if (!content || !content->is_array() || content->empty()) return std::nullopt;
    const json* top = find_path((*content)[0], {"top_logprobs"});
    if (!top || !top->is_array() || top->empty()) return std::nullopt;
    for (const json& e : *top) {
      if (e.is_object() && e.contains("token") && e["token"].is_string() && e.contains("logprob") &&
          e["logprob"].is_number()) {
        out.emplace_back(e["token"].get<std::string>(), e["logprob"].get<double>());
      }
    }
  } else {
    const json* top = find_path(*choice, {"logprobs", "top_logprobs"});
    if (!top || !top->is_array() || top->empty() || !(*top)[0].is_object()) return std::nullopt;
    for (const auto& [token, lp] : (*top)[0].items()) {
      if (lp.is_number()) out.emplace_back(token, lp.get<double>());
    }
  }
  if (out.empty()) return std::nullopt;
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

double first_token_score(const std::vector<std::pair<std::string, double>>& alternatives,
                         const std::string& candidate) {
  const std::string want = normalized(candidate);
  double best = -std::numeric_limits<double>::infinity(), sum = 0;
  for (const auto& [token, lp] : alternatives) {
    const std::string t = normalized(token);
    if (t.empty() || want.compare(0, t.size(), t) != 0) continue;
    // log(sum exp) accumulated stably around the best term.
    if (lp > best) {
      sum = std::isinf(best) ? 1.0 : sum * std::exp(best - lp) + 1.0;
      best = lp;
    } else {
      sum += std::exp(lp - best);
    }
  }
  return std::isinf(best) ? best : best + std::log(sum);
}

std::optional<size_t> match_answer(const std::string& answer,
                                   const std::vector<std::string>& candidates) {
  const std::string a = normalized(answer);
  std::optional<size_t> best;
  size_t best_len = 0;
  for (size_t c = 0; c < candidates.size(); ++c) {
    const std::string w = normalized(candidates[c]);
    if (!w.empty() && w.size() > best_len && whole_word_at(a, w, 0)) {
      best = c;
      best_len = w.size();
    }
  }
  if (best) return best;
  size_t earliest = std::string::npos;
  for (size_t c = 0; c < candidates.size(); ++c) {
    const std::string w = normalized(candidates[c]);
    if (w.empty()) continue;
    for (size_t at = a.find(w); at != std::string::npos && at < earliest; at = a.find(w, at + 1)) {
      if (whole_word_at(a, w, at)) {
        earliest = at;
        best = c;
        break;
      }
    }
  }
  return best;
}

std::string response_text(const json& response, bool chat) {
  const json* choice = first_choice(response);
  const json* text = choice == nullptr ? nullptr
                     : chat            ? find_path(*choice, {"message", "content"})
                                       : find_path(*choice, {"text"});
  if (text == nullptr || !(text->is_string() || text->is_null())) {
    throw std::runtime_error(chat ? "the response has no choices[0].message.content"
                                  : "the response has no choices[0].text");
  }
  return text->is_null() ? "" : text->get<std::string>();
}

std::string cut_at_stop(const std::string& text, const std::vector<std::string>& stop) {
  size_t cut = text.size();
  for (const std::string& s : stop) {
    if (s.empty()) continue;
    cut = std::min(cut, text.find(s));
  }
  return text.substr(0, cut);
}

}  // namespace ptune::eval::detail
