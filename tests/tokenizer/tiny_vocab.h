// Hand-made vocabularies for tokenizer unit tests (no model file needed).
#pragma once

#include <string>
#include <vector>

#include "ptune/tokenizer/tokenizer.h"

namespace ptune::test {

// The 256 single-byte tokens in GPT-2 byte-level spelling, in byte order (so byte b has id b),
// followed by `extra` tokens with the given types.
inline VocabSpec byte_vocab(const std::vector<std::pair<std::string, TokenType>>& extra = {}) {
  VocabSpec spec;
  for (int b = 0; b < 256; ++b) {
    std::string cp;
    const bool printable =
        (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    int code = b;
    if (!printable) {
      code = 256;
      for (int k = 0; k < b; ++k) {
        const bool p =
            (k >= 0x21 && k <= 0x7E) || (k >= 0xA1 && k <= 0xAC) || (k >= 0xAE && k <= 0xFF);
        code += p ? 0 : 1;
      }
    }
    if (code < 0x80) {
      cp += static_cast<char>(code);
    } else {
      cp += static_cast<char>(0xC0 | (code >> 6));
      cp += static_cast<char>(0x80 | (code & 0x3F));
    }
    spec.tokens.push_back(cp);
    spec.token_types.push_back(TokenType::Normal);
  }
  for (const auto& [text, type] : extra) {
    spec.tokens.push_back(text);
    spec.token_types.push_back(type);
  }
  return spec;
}

}  // namespace ptune::test
