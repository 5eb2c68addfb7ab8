// Type table, byte-size arithmetic and exact half/bfloat16 conversion.
#include "ptune/io/ggml_types.h"

#include <cmath>
#include <cstring>

#include "ptune/io/gguf.h"
#include "str_format.h"

namespace ptune::gguf {

namespace {

struct Entry {
  uint32_t id;
  TypeTraits traits;
};

// Geometry from ggml-common.h. Types we do not decode are listed anyway so a file using them
// fails with "type Q2_K not supported" instead of "unknown type 10".
constexpr Entry kTypes[] = {
    {0, {"F32", 1, 4, true}},       {1, {"F16", 1, 2, true}},
    {2, {"Q4_0", 32, 18, true}},    {3, {"Q4_1", 32, 20, true}},
    {6, {"Q5_0", 32, 22, true}},    {7, {"Q5_1", 32, 24, true}},
    {8, {"Q8_0", 32, 34, true}},    {9, {"Q8_1", 32, 36, false}},
    {10, {"Q2_K", 256, 84, false}}, {11, {"Q3_K", 256, 110, false}},
    {12, {"Q4_K", 256, 144, true}}, {13, {"Q5_K", 256, 176, true}},
    {14, {"Q6_K", 256, 210, true}}, {15, {"Q8_K", 256, 292, false}},
    {30, {"BF16", 1, 2, true}},
};

uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

}  // namespace

const TypeTraits* type_traits(uint32_t type_id) {
  for (const Entry& e : kTypes) {
    if (e.id == type_id) return &e.traits;
  }
  return nullptr;
}

const char* type_name(GgmlType t) {
  const TypeTraits* tr = type_traits(static_cast<uint32_t>(t));
  return tr ? tr->name : "unknown";
}

uint64_t row_bytes(GgmlType t, uint64_t n_elements) {
  const TypeTraits* tr = type_traits(static_cast<uint32_t>(t));
  if (!tr) {
    throw GgufError(detail::str_format("unknown ggml type %u", static_cast<uint32_t>(t)));
  }
  if (n_elements % tr->block_elems != 0) {
    throw GgufError(detail::str_format("%llu elements is not a multiple of the %s block size %u",
                                       static_cast<unsigned long long>(n_elements), tr->name,
                                       tr->block_elems));
  }
  const uint64_t blocks = n_elements / tr->block_elems;
  if (blocks > UINT64_MAX / tr->block_bytes) {
    throw GgufError(detail::str_format("byte size of %llu %s elements overflows",
                                       static_cast<unsigned long long>(n_elements), tr->name));
  }
  return blocks * tr->block_bytes;
}

// Half <-> float after Maratea's FP16 library (also what ggml uses without F16C): exact for
// every input, subnormals and NaN included, and free of hardware intrinsics.
float fp16_to_fp32(uint16_t h) {
  const uint32_t w = static_cast<uint32_t>(h) << 16;
  const uint32_t sign = w & 0x80000000u;
  const uint32_t two_w = w + w;
  // Normal numbers: move the exponent/mantissa into place and rebias by scaling with 2^-112.
  const float normalized = f32_from_bits((two_w >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
  // Subnormals: put the mantissa under a magic exponent and subtract the implicit one.
  const float denormalized = f32_from_bits((two_w >> 17) | (126u << 23)) - 0.5f;
  const uint32_t bits = two_w < (1u << 27) ? f32_bits(denormalized) : f32_bits(normalized);
  return f32_from_bits(sign | bits);
}

uint16_t fp32_to_fp16(float f) {
  // Scaling by 2^112 then 2^-110 performs round-to-nearest-even at half precision in the FPU.
  float base = (std::fabs(f) * 0x1.0p+112f) * 0x1.0p-110f;
  const uint32_t w = f32_bits(f);
  const uint32_t shl1_w = w + w;
  const uint32_t sign = w & 0x80000000u;
  uint32_t bias = shl1_w & 0xFF000000u;
  if (bias < 0x71000000u) bias = 0x71000000u;
  base = f32_from_bits((bias >> 1) + 0x07800000u) + base;
  const uint32_t bits = f32_bits(base);
  const uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
  const uint32_t mantissa_bits = bits & 0x00000FFFu;
  const uint32_t nonsign = exp_bits + mantissa_bits;
  return static_cast<uint16_t>((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

float bf16_to_fp32(uint16_t b) {
  return f32_from_bits(static_cast<uint32_t>(b) << 16);
}

}  // namespace ptune::gguf
