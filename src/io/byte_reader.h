// Bounds-checked little-endian cursor over untrusted bytes. Every read checks the bytes left
// first, so a malformed file ends in GgufError naming the byte offset, never an overread.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "ptune/io/gguf.h"
#include "str_format.h"

namespace ptune::gguf::detail {

class ByteReader {
 public:
  ByteReader(const uint8_t* base, size_t size) : base_(base), size_(size) {}

  size_t pos() const { return pos_; }
  size_t size() const { return size_; }
  size_t remaining() const { return size_ - pos_; }

  // Throws unless n more bytes are available; `what` names the field for the message.
  void need(uint64_t n, const char* what) const {
    if (n > remaining()) {
      throw GgufError(str_format("truncated file: %s needs %llu bytes at byte %zu, only %zu left",
                                 what, static_cast<unsigned long long>(n), pos_, remaining()));
    }
  }

  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, base_ + pos_, sizeof(T));  // memcpy: the bytes may be unaligned
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const char* what) {
    const size_t at = pos_;
    const uint64_t len = read<uint64_t>(what);
    if (len > remaining()) {
      throw GgufError(str_format("%s at byte %zu has length %llu but only %zu bytes are left", what,
                                 at, static_cast<unsigned long long>(len), remaining()));
    }
    std::string s(reinterpret_cast<const char*>(base_ + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return s;
  }

 private:
  const uint8_t* base_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace ptune::gguf::detail
