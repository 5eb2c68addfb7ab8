#include "tokenizer/special_tokens.h"

#include <algorithm>

namespace ptune::tokenizer_detail {

void SpecialTokenMatcher::add(std::string text, int32_t id, bool is_control) {
  if (text.empty()) return;
  auto& bucket = by_first_byte_[static_cast<uint8_t>(text[0])];
  bucket.push_back({std::move(text), id, is_control});
  // Stable: among equal texts (duplicated vocabulary entries) the lowest id stays first.
  std::stable_sort(bucket.begin(), bucket.end(),
                   [](const Entry& a, const Entry& b) { return a.text.size() > b.text.size(); });
  empty_ = false;
}

std::vector<SpecialTokenMatcher::Segment> SpecialTokenMatcher::split(
    std::string_view text, bool parse_control, const std::vector<util::TextSpan>& literal) const {
  std::vector<Segment> out;
  if (empty_) {
    if (!text.empty()) out.push_back({text, -1});
    return out;
  }
  size_t plain_begin = 0;
  size_t pos = 0;
  size_t span = 0;  // the first literal span that ends after pos
  while (pos < text.size()) {
    while (span < literal.size() && literal[span].end <= pos) ++span;
    const Entry* hit = nullptr;
    for (const Entry& e : by_first_byte_[static_cast<uint8_t>(text[pos])]) {
      // A control token may not start in, or reach into, a literal span.
      const bool in_literal = span < literal.size() && literal[span].begin < pos + e.text.size();
      if ((parse_control || !e.is_control) && !(e.is_control && in_literal) &&
          text.compare(pos, e.text.size(), e.text) == 0) {
        hit = &e;
        break;
      }
    }
    if (hit == nullptr) {
      ++pos;
      continue;
    }
    if (pos > plain_begin) out.push_back({text.substr(plain_begin, pos - plain_begin), -1});
    out.push_back({text.substr(pos, hit->text.size()), hit->id});
    pos += hit->text.size();
    plain_begin = pos;
  }
  if (plain_begin < text.size()) out.push_back({text.substr(plain_begin), -1});
  return out;
}

}  // namespace ptune::tokenizer_detail
