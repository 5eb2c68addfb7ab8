#include "tokenizer/byte_unicode.h"

#include <array>

namespace ptune::tokenizer_detail {
namespace {

std::string encode_utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

struct ByteMap {
  std::array<std::string, 256> to_text;
  std::array<int16_t, 0x144> to_byte;  // code point -> byte, -1 outside the alphabet

  ByteMap() {
    to_byte.fill(-1);
    // Same construction as GPT-2's bytes_to_unicode(): printable ranges keep their code point,
    // the rest are numbered from 256 upwards in byte order.
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable =
          (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const uint32_t cp = printable ? b : next++;
      to_text[b] = encode_utf8(cp);
      to_byte[cp] = static_cast<int16_t>(b);
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}

}  // namespace

const std::string& byte_to_unicode(uint8_t byte) {
  return byte_map().to_text[byte];
}

int32_t next_code_point(std::string_view text, size_t* pos) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const size_t i = *pos;
  const uint8_t c = byte(i);
  size_t len = 0;
  int32_t cp = 0;
  if (c < 0x80) {
    len = 1, cp = c;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07;
  }
  if (len == 0 || i + len > text.size()) {
    *pos = i + 1;
    return -1;
  }
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      *pos = i + 1;
      return -1;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  *pos = i + len;
  return cp;
}

bool unicode_to_bytes(std::string_view text, std::string* out) {
  const ByteMap& map = byte_map();
  size_t pos = 0;
  while (pos < text.size()) {
    const int32_t cp = next_code_point(text, &pos);
    if (cp < 0 || cp >= static_cast<int32_t>(map.to_byte.size()) || map.to_byte[cp] < 0) {
      return false;
    }
    out->push_back(static_cast<char>(map.to_byte[cp]));
  }
  return true;
}

}  // namespace ptune::tokenizer_detail
