// UTF-8 helpers shared by the data readers (validation) and the metrics (code-point iteration).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ptune::util {

// Byte offset of the first invalid UTF-8 sequence (overlong forms, surrogates and code points
// above U+10FFFF are invalid), or std::string_view::npos when `s` is valid.
size_t find_invalid_utf8(std::string_view s);

// Splits UTF-8 into code points, each as its byte string (invalid bytes become one-byte items so
// metrics never throw on odd model output).
std::vector<std::string_view> utf8_chars(std::string_view s);

}  // namespace ptune::util
