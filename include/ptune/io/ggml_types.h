// ggml tensor element types as stored in GGUF, their block geometry, and dequantization to f32.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ptune::gguf {

enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  BF16 = 30,
};

struct TypeTraits {
  const char* name;
  uint32_t block_elems;  // elements per block (1 for float types)
  uint32_t block_bytes;  // bytes per block
  bool can_dequantize;   // false for types we recognise but do not decode
};

// Returns nullptr for an id that is not a known ggml type.
const TypeTraits* type_traits(uint32_t type_id);
const char* type_name(GgmlType t);

// Bytes needed for n elements; throws GgufError when n is not a multiple of the block size or
// the byte count overflows.
uint64_t row_bytes(GgmlType t, uint64_t n_elements);

// Decodes n elements (a multiple of the block size) from src into dst.
// Throws GgufError for types without a decoder.
void dequantize(GgmlType t, const uint8_t* src, float* dst, uint64_t n_elements);

// IEEE half and bfloat16 conversion helpers (exact, no hardware intrinsics needed).
float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);
float bf16_to_fp32(uint16_t b);

}  // namespace ptune::gguf
