// GPT-2 byte <-> unicode map used by byte-level BPE vocabularies.
//
// Byte-level BPE never sees raw bytes: every byte is first replaced by one printable code point
// (printable Latin-1 bytes map to themselves, the other 68 to U+0100..U+0143), so vocabulary
// strings are valid, whitespace-free UTF-8 ("Ġ" is the space byte 0x20).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ptune::tokenizer_detail {

// UTF-8 text of the code point standing for `byte`.
const std::string& byte_to_unicode(uint8_t byte);

// Maps the byte-level spelling back to bytes. Returns false (and leaves `out` partly written)
// when `text` holds a code point outside the byte alphabet.
bool unicode_to_bytes(std::string_view text, std::string* out);

// Decodes one UTF-8 code point at `text[*pos]`, advancing *pos; -1 (one byte consumed) when the
// sequence is malformed.
int32_t next_code_point(std::string_view text, size_t* pos);

}  // namespace ptune::tokenizer_detail
