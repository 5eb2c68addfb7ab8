// Finds the text of added tokens (control / user-defined, e.g. "<|im_start|>") in input, so
// they become one token each instead of going through pre-tokenization and BPE.
//
// Matching is leftmost-longest over all candidates, like HF's AddedVocabulary (Aho-Corasick,
// LeftmostLongest); no whitespace is stripped around a match (SmolLM2's added tokens all have
// lstrip = rstrip = false).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ptune/util/marked_text.h"

namespace ptune::tokenizer_detail {

class SpecialTokenMatcher {
 public:
  struct Segment {
    std::string_view text;  // plain text when id < 0
    int32_t id = -1;        // the matched token otherwise
  };

  void add(std::string text, int32_t id, bool is_control);
  // Splits `text` into plain and special segments, in order. Control tokens are matched only
  // when `parse_control` is set, and never where the match overlaps one of `literal`'s spans
  // (data and user text: util::MarkedText); user-defined ones always, as llama.cpp and HF do.
  std::vector<Segment> split(std::string_view text, bool parse_control,
                             const std::vector<util::TextSpan>& literal = {}) const;

 private:
  struct Entry {
    std::string text;
    int32_t id;
    bool is_control;
  };
  // Candidates by first byte, longest first, so the first hit at a position is the longest.
  std::array<std::vector<Entry>, 256> by_first_byte_;
  bool empty_ = true;
};

}  // namespace ptune::tokenizer_detail
