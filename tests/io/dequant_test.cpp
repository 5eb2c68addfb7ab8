// Dequantization against golden values from gguf-py (scripts/reference/make_gguf_golden.py),
// plus the half-precision helpers and the type table.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ptune/io/ggml_types.h"
#include "ptune/io/gguf.h"
#include "test_util.h"

namespace ptune::gguf {
namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// Distance in units in the last place, on the sign-magnitude ordering of floats.
int64_t ulp_diff(float a, float b) {
  auto key = [](float f) {
    const int64_t u = bits(f);
    return (u & 0x80000000) ? -(u & 0x7FFFFFFF) : u;
  };
  return std::llabs(key(a) - key(b));
}

class GoldenDequant : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenDequant, MatchesGgufPyExactly) {
  const GgufFile f = GgufFile::open(test::data_path("gguf/quants.gguf"));
  const std::string name = GetParam();
  const TensorInfo& t = f.tensor(name);
  const TensorInfo& e = f.tensor(name + ".expected");
  ASSERT_EQ(e.type, GgmlType::F32);
  ASSERT_EQ(t.dims, e.dims);
  ASSERT_EQ(t.n_elements, e.n_elements);

  std::vector<float> got(t.n_elements), want(e.n_elements);
  dequantize(t.type, t.data, got.data(), t.n_elements);
  std::memcpy(want.data(), e.data, e.n_bytes);

  int64_t max_ulp = 0;
  size_t worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const int64_t d = ulp_diff(got[i], want[i]);
    if (d > max_ulp) max_ulp = d, worst = i;
  }
  EXPECT_EQ(max_ulp, 0) << name << ": element " << worst << " got " << got[worst] << " want "
                        << want[worst];
}

INSTANTIATE_TEST_SUITE_P(AllTypes, GoldenDequant,
                         ::testing::Values("f32", "f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1",
                                           "q8_0", "q4_k", "q5_k", "q6_k"),
                         [](const auto& info) { return std::string(info.param); });

TEST(Dequant, GoldenFileCoversEveryDecodableType) {
  const GgufFile f = GgufFile::open(test::data_path("gguf/quants.gguf"));
  for (uint32_t id = 0; id < 64; ++id) {
    const TypeTraits* tr = type_traits(id);
    if (!tr || !tr->can_dequantize) continue;
    bool found = false;
    for (const TensorInfo& t : f.tensors()) found |= static_cast<uint32_t>(t.type) == id;
    EXPECT_TRUE(found) << "no golden tensor of type " << tr->name;
  }
}

TEST(Dequant, KnownButUnsupportedTypeSaysSo) {
  const GgufFile f = GgufFile::open(test::data_path("gguf/quants.gguf"));
  const TensorInfo& t = f.tensor("q2_k");
  EXPECT_EQ(t.type, GgmlType::Q2_K);
  std::vector<float> out(t.n_elements);
  try {
    dequantize(t.type, t.data, out.data(), t.n_elements);
    ADD_FAILURE() << "Q2_K decoded";
  } catch (const GgufError& e) {
    EXPECT_NE(std::string(e.what()).find("Q2_K not supported"), std::string::npos) << e.what();
  }
}

TEST(Dequant, RejectsPartialBlock) {
  std::vector<uint8_t> block(18, 0);
  std::vector<float> out(32);
  EXPECT_THROW(dequantize(GgmlType::Q4_0, block.data(), out.data(), 16), GgufError);
  EXPECT_THROW(dequantize(static_cast<GgmlType>(99), block.data(), out.data(), 32), GgufError);
}

// Hand-made Q4_0 block: checks the nibble order (byte j = elements j and j + 16) independently
// of the golden file.
TEST(Dequant, Q4_0NibbleOrder) {
  std::vector<uint8_t> b(18);
  const uint16_t one = fp32_to_fp16(1.0f);
  std::memcpy(b.data(), &one, 2);
  for (int j = 0; j < 16; ++j) b[2 + j] = static_cast<uint8_t>((j & 15) | ((15 - j) << 4));
  std::vector<float> y(32);
  dequantize(GgmlType::Q4_0, b.data(), y.data(), 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], static_cast<float>(j - 8));
    EXPECT_EQ(y[j + 16], static_cast<float>(7 - j));
  }
}

TEST(Half, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = fp16_to_fp32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE((h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0) << h;
      EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(f))));
      continue;
    }
    ASSERT_EQ(fp32_to_fp16(f), h) << "half 0x" << std::hex << h;
  }
}

TEST(Half, KnownValues) {
  EXPECT_EQ(fp16_to_fp32(0x3C00), 1.0f);
  EXPECT_EQ(fp16_to_fp32(0xC000), -2.0f);
  EXPECT_EQ(fp16_to_fp32(0x7BFF), 65504.0f);
  EXPECT_EQ(fp16_to_fp32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(fp16_to_fp32(0x7C00), INFINITY);
  EXPECT_EQ(bits(fp16_to_fp32(0x8000)), 0x80000000u);  // -0
  // Rounding: ties go to even, overflow goes to inf, tiny values to zero.
  EXPECT_EQ(fp32_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);
  EXPECT_EQ(fp32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);
  EXPECT_EQ(fp32_to_fp16(65519.0f), 0x7BFF);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7C00);
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(fp32_to_fp16(-INFINITY), 0xFC00);
  EXPECT_EQ(fp32_to_fp16(NAN) & 0x7E00, 0x7E00);
  EXPECT_EQ(bf16_to_fp32(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_fp32(0xC040), -3.0f);
}

TEST(TypeTable, GeometryAndNames) {
  EXPECT_EQ(row_bytes(GgmlType::Q4_K, 512), 288u);
  EXPECT_EQ(row_bytes(GgmlType::Q6_K, 256), 210u);
  EXPECT_EQ(row_bytes(GgmlType::Q4_1, 64), 40u);
  EXPECT_EQ(row_bytes(GgmlType::F16, 3), 6u);
  EXPECT_THROW(row_bytes(GgmlType::Q4_0, 33), GgufError);
  EXPECT_THROW(row_bytes(GgmlType::F32, UINT64_MAX / 2), GgufError);
  EXPECT_STREQ(type_name(GgmlType::Q5_K), "Q5_K");
  EXPECT_STREQ(type_name(static_cast<GgmlType>(99)), "unknown");
  EXPECT_EQ(type_traits(99), nullptr);
  for (uint32_t id : {9u, 10u, 11u, 15u}) {
    ASSERT_NE(type_traits(id), nullptr) << id;
    EXPECT_FALSE(type_traits(id)->can_dequantize) << id;
  }
}

}  // namespace
}  // namespace ptune::gguf
