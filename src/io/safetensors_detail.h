// What the safetensors reader and writer share, private to src/io: the "__metadata__" key, the
// dtype ranks the writer orders by, overflow-checked sizes, names cut short for messages, and
// the header parser (safetensors_header.cpp), which turns the untrusted header bytes into
// checked entries whose offsets tile the data buffer exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ptune/io/safetensors.h"

namespace ptune::safetensors::detail {

inline constexpr char kMetadataKey[] = "__metadata__";

// The reference's dtype enum order: the writer puts higher ranks first.
int dtype_rank(Dtype t);

// Names in messages are cut short: a fuzzed name can be megabytes of garbage.
std::string printable(std::string_view s);

// *out = a * b; returns true when that overflows u64.
inline bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

// One tensor of the header, checked: its bytes are buffer[begin, end), not yet copied.
struct Entry {
  Tensor tensor;
  uint64_t begin = 0;
  uint64_t end = 0;
};

struct Header {
  std::map<std::string, std::string> metadata;
  std::vector<Entry> entries;  // sorted by offset; they tile the buffer
};

// Parses and checks the `size` header bytes at `begin` (file offset `header_at`) for a data
// buffer of `buffer_size` bytes starting at file offset `data_at`. Throws SafetensorsError.
Header read_header(const char* begin, size_t size, size_t header_at, uint64_t buffer_size,
                   size_t data_at);

}  // namespace ptune::safetensors::detail
