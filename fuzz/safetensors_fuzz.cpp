// libFuzzer target for the safetensors reader: parse, decode every floating-point tensor, then
// serialize what was read and parse it again, which must give back the same tensors and metadata.
// Only SafetensorsError may escape the first parse; a crash, a sanitizer report, any other
// exception or a round trip that changes the content is a finding.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ptune/io/safetensors.h"

using ptune::safetensors::Dtype;
using ptune::safetensors::File;
using ptune::safetensors::SafetensorsError;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  File f;
  try {
    f = ptune::safetensors::parse(data, size);
  } catch (const SafetensorsError&) {
    return 0;
  }
  volatile uint64_t sink = f.metadata.size();
  for (const auto& t : f.tensors) {
    if (t.data.size() != t.numel() * ptune::safetensors::dtype_size(t.dtype)) __builtin_trap();
    if (f.find(t.name) != &t) __builtin_trap();
    if (t.dtype == Dtype::F32 || t.dtype == Dtype::F16 || t.dtype == Dtype::BF16 ||
        t.dtype == Dtype::F64) {
      const std::vector<float> v = t.to_float();
      sink = sink + v.size() + static_cast<uint64_t>(!v.empty() && v[0] > 0);
    }
  }
  // What we accept, we can write, and it reads back the same.
  const std::vector<uint8_t> again = ptune::safetensors::serialize(f.tensors, f.metadata);
  const File g = ptune::safetensors::parse(again.data(), again.size());
  if (g.metadata != f.metadata || g.tensors.size() != f.tensors.size()) __builtin_trap();
  for (const auto& t : f.tensors) {
    const auto* u = g.find(t.name);
    if (!u || u->dtype != t.dtype || u->shape != t.shape || u->data != t.data) __builtin_trap();
  }
  return 0;
}
