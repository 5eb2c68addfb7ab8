// libFuzzer target for the GGUF reader: parse, walk every metadata value and tensor info, and
// dequantize every tensor the reader accepted. Only GgufError may escape parsing; anything else
// (a crash, a sanitizer report, another exception) is a finding.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ptune/io/gguf.h"

namespace {

using ptune::gguf::GgufError;
using ptune::gguf::GgufFile;
using ptune::gguf::Value;
using ptune::gguf::ValueType;

// Touches every accessor that applies to the value's type, recursing into arrays.
uint64_t walk(const Value& v) {
  uint64_t h = static_cast<uint64_t>(v.type());
  switch (v.type()) {
    case ValueType::STRING: return h + v.as_string().size();
    case ValueType::BOOL: return h + v.as_bool();
    case ValueType::F32:
    case ValueType::F64: return h + static_cast<uint64_t>(v.as_float() != 0.0);
    case ValueType::ARRAY:
      h += static_cast<uint64_t>(v.array_type());
      for (const Value& e : v.as_array()) h += walk(e);
      return h;
    default:
      try {
        h += static_cast<uint64_t>(v.as_int());
      } catch (const GgufError&) {  // u64 above INT64_MAX
        h += v.as_uint();
      }
      return h + static_cast<uint64_t>(v.as_float() > 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const GgufFile f = GgufFile::parse(data, size);
    volatile uint64_t sink = f.version() + f.alignment();
    for (const auto& [key, value] : f.metadata()) {
      sink = sink + key.size() + walk(value);
      try {
        sink = sink + f.get_string_array(key).size();
      } catch (const GgufError&) {
      }
    }
    std::vector<float> out;
    for (const auto& t : f.tensors()) {
      sink = sink + t.dims.size() + t.offset;
      if (f.find_tensor(t.name) != &t) __builtin_trap();
      const auto* tr = ptune::gguf::type_traits(static_cast<uint32_t>(t.type));
      if (!tr || !tr->can_dequantize || t.n_elements > (1u << 20)) continue;
      out.resize(static_cast<size_t>(t.n_elements));
      ptune::gguf::dequantize(t.type, t.data, out.data(), t.n_elements);
      sink = sink + static_cast<uint64_t>(out[0] != 0.0f);
    }
  } catch (const GgufError&) {
  }
  return 0;
}
