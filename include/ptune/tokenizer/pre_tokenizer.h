// Pre-tokenizers: split text into the pieces that BPE merges within.
//
// A pre-tokenizer is a list of regexes applied in turn, each to every piece the previous one
// left: a piece becomes its matches and the non-empty gaps between them, in order (Hugging
// Face's Split(behavior="isolated") and llama.cpp's unicode_regex_split). Each regex sees only
// its piece, so `\s+(?!\S)` at a piece's end behaves as at the end of the text.
// Regexes are PCRE2 in UTF + UCP mode, the same patterns HF tokenizers run through Oniguruma.
// Bytes that are not valid UTF-8 never match and so end up as pieces of their own.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ptune {

class PreTokenizer {
 public:
  // `name` is tokenizer.ggml.pre. Throws std::invalid_argument listing the supported names.
  static PreTokenizer create(std::string_view name);
  // Names create() accepts, sorted.
  static std::vector<std::string> supported();

  ~PreTokenizer();
  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;

  // Pieces are views into `text`; their concatenation is `text`. Throws std::runtime_error if
  // the regex engine fails (e.g. a resource limit), never silently drops text.
  std::vector<std::string_view> split(std::string_view text) const;

 private:
  struct Impl;
  explicit PreTokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ptune
