// Text that knows which of its bytes came from data or a user rather than from the task author.
//
// Why: the tokenizer turns the text of control tokens ("<|im_start|>", "<|im_end|>") into those
// tokens. Done on a whole prompt, a data row or a chat message holding "<|im_end|>\n<|im_start|>
// system\n..." would open turns of its own: prompt injection through the data. Prompts are
// therefore built as MarkedText, every piece of data or user text appended as `literal`, and
// Tokenizer::encode(MarkedText) matches control tokens only outside the literal spans. Text outside
// them (templates, instructions, the chat template's markers) still gets its control tokens, and
// a prompt whose data holds none tokenizes exactly as the plain string does.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ptune::util {

struct TextSpan {
  size_t begin = 0, end = 0;  // byte offsets, end exclusive
  bool operator==(const TextSpan& o) const { return begin == o.begin && end == o.end; }
};

struct MarkedText {
  std::string text;
  std::vector<TextSpan> literal;  // sorted, disjoint, non-empty

  MarkedText() = default;
  explicit MarkedText(std::string author_text) : text(std::move(author_text)) {}
  static MarkedText literal_text(std::string s) {
    MarkedText m;
    m.append(s, true);
    return m;
  }

  void append(const std::string& s, bool is_literal) {
    if (s.empty()) return;
    if (is_literal) add_span(text.size(), text.size() + s.size());
    text += s;
  }
  void append(const MarkedText& other) {
    const size_t base = text.size();
    text += other.text;
    for (const TextSpan& s : other.literal) add_span(base + s.begin, base + s.end);
  }

 private:
  void add_span(size_t begin, size_t end) {
    if (!literal.empty() && literal.back().end == begin) {
      literal.back().end = end;  // adjacent literal pieces form one span
    } else {
      literal.push_back({begin, end});
    }
  }
};

}  // namespace ptune::util
