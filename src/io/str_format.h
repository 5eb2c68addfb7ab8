// printf-style formatting into std::string, checked by the compiler like llama.cpp's format().
#pragma once

#include <string>

namespace ptune::gguf::detail {

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
std::string
str_format(const char* fmt, ...);

}  // namespace ptune::gguf::detail
