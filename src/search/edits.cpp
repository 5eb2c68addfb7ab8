// Phrase-level instruction edits; contract in include/ptune/search/edits.h.
#include "ptune/search/edits.h"

#include <set>

#include "ptune/util/random.h"

namespace ptune::search {
namespace {

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && s[a] == ' ') ++a;
  while (b > a && s[b - 1] == ' ') --b;
  return s.substr(a, b - a);
}

// Phrases joined with single spaces; a sentence-ending phrase keeps its punctuation.
std::string join(const std::vector<std::string>& phrases) {
  std::string out;
  for (const std::string& p : phrases) {
    const std::string t = trim(p);
    if (t.empty()) continue;
    out += (out.empty() ? "" : " ") + t;
  }
  return out;
}

}  // namespace

std::vector<std::string> split_phrases(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < s.size(); ++i) {
    // Before a conjunction: " and ", " or " start a new phrase.
    for (const char* conj : {" and ", " or "}) {
      const std::string c = conj;
      if (s.compare(i, c.size(), c) == 0 && !trim(cur).empty()) {
        out.push_back(cur);
        cur.clear();
        break;
      }
    }
    cur += s[i];
    const bool punct = std::string(".!?;:,").find(s[i]) != std::string::npos;
    if (punct && (i + 1 == s.size() || s[i + 1] == ' ')) {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (!trim(cur).empty()) out.push_back(cur);
  return out;
}

std::vector<Edit> phrase_edits(const std::string& instruction,
                               const std::vector<std::string>& deleted, size_t n, uint64_t seed) {
  const std::vector<std::string> phrases = split_phrases(instruction);
  std::vector<Edit> all;
  for (size_t i = 0; i < phrases.size() && phrases.size() > 1; ++i) {
    std::vector<std::string> p = phrases;
    p.erase(p.begin() + static_cast<std::ptrdiff_t>(i));
    all.push_back({join(p), "delete '" + trim(phrases[i]) + "'", trim(phrases[i])});
  }
  for (size_t i = 0; i < phrases.size(); ++i) {
    for (size_t j = i + 1; j < phrases.size(); ++j) {
      std::vector<std::string> p = phrases;
      std::swap(p[i], p[j]);
      all.push_back(
          {join(p), "swap '" + trim(phrases[i]) + "' <-> '" + trim(phrases[j]) + "'", ""});
    }
  }
  for (const std::string& d : deleted) {
    for (size_t at = 0; at <= phrases.size(); ++at) {
      std::vector<std::string> p = phrases;
      p.insert(p.begin() + static_cast<std::ptrdiff_t>(at), d);
      all.push_back({join(p), "add '" + d + "'", ""});
    }
  }
  util::Rng rng(seed);
  rng.shuffle(all);
  std::vector<Edit> out;
  std::set<std::string> seen = {join(phrases), ""};
  for (Edit& e : all) {
    if (out.size() >= n) break;
    if (!seen.insert(e.text).second) continue;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace ptune::search
