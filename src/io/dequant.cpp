// Block decoders, written after ggml-quants.c's dequantize_row_* reference kernels. The float
// operations keep ggml's order ((d * scale) * q - dmin * m) so results match it bit for bit.
//
// Nibble order: in a 32-element 4-bit block, byte j holds element j (low nibble) and element
// j + 16 (high nibble); the K-quants apply the same rule per 64-element chunk (j and j + 32).
#include <cstring>

#include "ptune/io/ggml_types.h"
#include "ptune/io/gguf.h"
#include "str_format.h"

namespace ptune::gguf {

namespace {

constexpr int kQK = 32;  // elements per legacy block

uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

float load_half(const uint8_t* p) {
  return fp16_to_fp32(load_u16(p));
}

void dequant_f32(const uint8_t* src, float* dst, uint64_t n) {
  std::memcpy(dst, src, n * 4);
}

void dequant_f16(const uint8_t* src, float* dst, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) dst[i] = load_half(src + 2 * i);
}

void dequant_bf16(const uint8_t* src, float* dst, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(load_u16(src + 2 * i));
}

// Block: d (f16) | qs[16].
void dequant_q4_0(const uint8_t* b, float* y) {
  const float d = load_half(b);
  const uint8_t* qs = b + 2;
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = static_cast<float>((qs[j] & 0x0F) - 8) * d;
    y[j + kQK / 2] = static_cast<float>((qs[j] >> 4) - 8) * d;
  }
}

// Block: d | m | qs[16].
void dequant_q4_1(const uint8_t* b, float* y) {
  const float d = load_half(b);
  const float m = load_half(b + 2);
  const uint8_t* qs = b + 4;
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = static_cast<float>(qs[j] & 0x0F) * d + m;
    y[j + kQK / 2] = static_cast<float>(qs[j] >> 4) * d + m;
  }
}

// Block: d | qh (u32, bit j = 5th bit of element j) | qs[16].
void dequant_q5_0(const uint8_t* b, float* y) {
  const float d = load_half(b);
  const uint32_t qh = load_u32(b + 2);
  const uint8_t* qs = b + 6;
  for (int j = 0; j < kQK / 2; ++j) {
    const int hi0 = ((qh >> j) & 1u) << 4;
    const int hi1 = ((qh >> (j + 16)) & 1u) << 4;
    y[j] = static_cast<float>(((qs[j] & 0x0F) | hi0) - 16) * d;
    y[j + kQK / 2] = static_cast<float>(((qs[j] >> 4) | hi1) - 16) * d;
  }
}

// Block: d | m | qh | qs[16].
void dequant_q5_1(const uint8_t* b, float* y) {
  const float d = load_half(b);
  const float m = load_half(b + 2);
  const uint32_t qh = load_u32(b + 4);
  const uint8_t* qs = b + 8;
  for (int j = 0; j < kQK / 2; ++j) {
    const int hi0 = ((qh >> j) & 1u) << 4;
    const int hi1 = ((qh >> (j + 16)) & 1u) << 4;
    y[j] = static_cast<float>((qs[j] & 0x0F) | hi0) * d + m;
    y[j + kQK / 2] = static_cast<float>((qs[j] >> 4) | hi1) * d + m;
  }
}

// Block: d | int8 qs[32].
void dequant_q8_0(const uint8_t* b, float* y) {
  const float d = load_half(b);
  const int8_t* qs = reinterpret_cast<const int8_t*>(b + 2);
  for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(qs[j]) * d;
}

// The 12 scale bytes of Q4_K/Q5_K pack eight 6-bit scales and eight 6-bit mins: sub-blocks 0-3
// in the low 6 bits of bytes 0-3 (scale) and 4-7 (min); sub-blocks 4-7 take their low 4 bits
// from bytes 8-11 and their top 2 bits from the spare top bits of bytes 0-7.
void scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// Super-block: d | dmin | scales[12] | qs[128].
void dequant_q4_k(const uint8_t* b, float* y) {
  const float d = load_half(b);
  const float dmin = load_half(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* q = b + 16;
  for (int chunk = 0; chunk < 4; ++chunk, q += 32, y += 64) {
    uint8_t sc, m;
    scale_min_k4(2 * chunk, scales, &sc, &m);
    const float d1 = d * sc, m1 = dmin * m;
    scale_min_k4(2 * chunk + 1, scales, &sc, &m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) y[l] = d1 * static_cast<float>(q[l] & 0x0F) - m1;
    for (int l = 0; l < 32; ++l) y[l + 32] = d2 * static_cast<float>(q[l] >> 4) - m2;
  }
}

// Super-block: d | dmin | scales[12] | qh[32] | qs[128]; bit s of qh[l] is the 5th bit of
// element l of sub-block s.
void dequant_q5_k(const uint8_t* b, float* y) {
  const float d = load_half(b);
  const float dmin = load_half(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* ql = b + 48;
  for (int chunk = 0; chunk < 4; ++chunk, ql += 32, y += 64) {
    uint8_t sc, m;
    scale_min_k4(2 * chunk, scales, &sc, &m);
    const float d1 = d * sc, m1 = dmin * m;
    scale_min_k4(2 * chunk + 1, scales, &sc, &m);
    const float d2 = d * sc, m2 = dmin * m;
    const uint8_t u1 = static_cast<uint8_t>(1u << (2 * chunk));
    const uint8_t u2 = static_cast<uint8_t>(2u << (2 * chunk));
    for (int l = 0; l < 32; ++l) {
      y[l] = d1 * static_cast<float>((ql[l] & 0x0F) + (qh[l] & u1 ? 16 : 0)) - m1;
    }
    for (int l = 0; l < 32; ++l) {
      y[l + 32] = d2 * static_cast<float>((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
    }
  }
}

// Super-block: ql[128] | qh[64] | int8 scales[16] | d (last). Each 128-element half uses 64 ql
// bytes (low nibbles: elements 0-63, high: 64-127) and 32 qh bytes (2 bits per element).
void dequant_q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = load_half(b + 208);
  for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, y += 128) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
      y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
      y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
      y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
    }
  }
}

using BlockFn = void (*)(const uint8_t*, float*);

void for_blocks(BlockFn fn, uint32_t block_elems, uint32_t block_bytes, const uint8_t* src,
                float* dst, uint64_t n) {
  const uint64_t blocks = n / block_elems;
  for (uint64_t i = 0; i < blocks; ++i) fn(src + i * block_bytes, dst + i * block_elems);
}

}  // namespace

void dequantize(GgmlType t, const uint8_t* src, float* dst, uint64_t n_elements) {
  const TypeTraits* tr = type_traits(static_cast<uint32_t>(t));
  if (!tr) {
    throw GgufError(detail::str_format("unknown ggml type %u", static_cast<uint32_t>(t)));
  }
  if (!tr->can_dequantize) {
    throw GgufError(detail::str_format("type %s not supported for dequantization", tr->name));
  }
  row_bytes(t, n_elements);  // throws on a partial block
  const uint32_t be = tr->block_elems, bb = tr->block_bytes;
  switch (t) {
    case GgmlType::F32:
      return dequant_f32(src, dst, n_elements);
    case GgmlType::F16:
      return dequant_f16(src, dst, n_elements);
    case GgmlType::BF16:
      return dequant_bf16(src, dst, n_elements);
    case GgmlType::Q4_0:
      return for_blocks(dequant_q4_0, be, bb, src, dst, n_elements);
    case GgmlType::Q4_1:
      return for_blocks(dequant_q4_1, be, bb, src, dst, n_elements);
    case GgmlType::Q5_0:
      return for_blocks(dequant_q5_0, be, bb, src, dst, n_elements);
    case GgmlType::Q5_1:
      return for_blocks(dequant_q5_1, be, bb, src, dst, n_elements);
    case GgmlType::Q8_0:
      return for_blocks(dequant_q8_0, be, bb, src, dst, n_elements);
    case GgmlType::Q4_K:
      return for_blocks(dequant_q4_k, be, bb, src, dst, n_elements);
    case GgmlType::Q5_K:
      return for_blocks(dequant_q5_k, be, bb, src, dst, n_elements);
    case GgmlType::Q6_K:
      return for_blocks(dequant_q6_k, be, bb, src, dst, n_elements);
    default:
      break;
  }
  throw GgufError(detail::str_format("type %s has no decoder", tr->name));
}

}  // namespace ptune::gguf
