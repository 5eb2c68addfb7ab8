// GgufWriter: round trips through the reader, and reproduces gguf-py's files byte for byte.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "ptune/io/gguf.h"
#include "test_util.h"

namespace ptune::gguf {
namespace {

// Deep equality, type tags included.
void expect_same(const Value& a, const Value& b, const std::string& where) {
  ASSERT_EQ(a.type(), b.type()) << where;
  switch (a.type()) {
    case ValueType::STRING:
      EXPECT_EQ(a.as_string(), b.as_string()) << where;
      break;
    case ValueType::BOOL:
      EXPECT_EQ(a.as_bool(), b.as_bool()) << where;
      break;
    case ValueType::F32:
    case ValueType::F64:
      EXPECT_EQ(a.as_float(), b.as_float()) << where;
      break;
    case ValueType::ARRAY:
      ASSERT_EQ(a.array_type(), b.array_type()) << where;
      ASSERT_EQ(a.as_array().size(), b.as_array().size()) << where;
      for (size_t i = 0; i < a.as_array().size(); ++i) {
        expect_same(a.as_array()[i], b.as_array()[i], where + "[" + std::to_string(i) + "]");
      }
      break;
    case ValueType::U8:
    case ValueType::U16:
    case ValueType::U32:
    case ValueType::U64:
      EXPECT_EQ(a.as_uint(), b.as_uint()) << where;
      break;
    default:
      EXPECT_EQ(a.as_int(), b.as_int()) << where;
      break;
  }
}

// Reads a file and feeds everything back through GgufWriter.
GgufWriter rewrite(const GgufFile& f) {
  GgufWriter w;
  for (const auto& [key, value] : f.metadata()) w.set(key, value);
  for (const TensorInfo& t : f.tensors()) {
    w.add_tensor(t.name, t.dims, t.type, std::vector<uint8_t>(t.data, t.data + t.n_bytes));
  }
  return w;
}

class ByteIdentical : public ::testing::TestWithParam<const char*> {};

TEST_P(ByteIdentical, RewriteOfGgufPyFile) {
  const std::string path = test::data_path(std::string("gguf/") + GetParam());
  const std::string original = test::read_file(path);
  const std::vector<uint8_t> ours = rewrite(GgufFile::open(path)).to_bytes();
  ASSERT_EQ(ours.size(), original.size());
  EXPECT_EQ(std::memcmp(ours.data(), original.data(), ours.size()), 0);
}

INSTANTIATE_TEST_SUITE_P(GoldenFiles, ByteIdentical,
                         ::testing::Values("meta_v3.gguf", "quants.gguf"), [](const auto& info) {
                           std::string n = info.param;
                           return n.substr(0, n.find('.'));
                         });

TEST(GgufWriter, RoundTripEveryTypeAndAlignment) {
  const std::vector<std::pair<std::string, Value>> kv = {
      {"u8", Value::make_uint(ValueType::U8, 255)},
      {"i8", Value::make_int(ValueType::I8, -128)},
      {"u16", Value::make_uint(ValueType::U16, 65535)},
      {"i16", Value::make_int(ValueType::I16, -32768)},
      {"u32", Value::make_uint(ValueType::U32, 4294967295u)},
      {"i32", Value::make_int(ValueType::I32, INT32_MIN)},
      {"u64", Value::make_uint(ValueType::U64, UINT64_MAX)},
      {"i64", Value::make_int(ValueType::I64, INT64_MIN)},
      {"f32", Value::make_float(ValueType::F32, -0.1)},
      {"f64", Value::make_float(ValueType::F64, 1e-310)},
      {"bool", Value::make_bool(true)},
      {"str", Value::make_string(std::string("with\0nul", 8))},
      {"empty", Value::make_array(ValueType::I32, {})},
      {"nested", Value::make_array(
                     ValueType::ARRAY,
                     {Value::make_array(ValueType::STRING, {Value::make_string("a")}),
                      Value::make_array(ValueType::F64, {Value::make_float(ValueType::F64, 2)})})},
  };
  GgufWriter w;
  w.set_alignment(128);
  w.set("u8", Value::make_uint(ValueType::U8, 7));
  for (const auto& [key, value] : kv) w.set(key, value);  // "u8" replaced in place
  w.add_tensor_f32("w.f32", {3, 2}, {1, 2, 3, 4, 5, 6});
  w.add_tensor_f16("w.f16", {4}, {0.5f, -1.0f, 65504.0f, 0.1f});
  const std::vector<uint8_t> q8(34, 1);
  w.add_tensor("w.q8", {32}, GgmlType::Q8_0, q8);

  const std::vector<uint8_t> bytes = w.to_bytes();
  const GgufFile f = GgufFile::parse(bytes.data(), bytes.size());
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 128u);
  ASSERT_EQ(f.metadata().size(), kv.size() + 1);
  EXPECT_EQ(f.metadata()[0].first, "general.alignment");
  for (size_t i = 0; i < kv.size(); ++i) {
    EXPECT_EQ(f.metadata()[i + 1].first, kv[i].first);
    expect_same(f.metadata()[i + 1].second, kv[i].second, kv[i].first);
  }
  EXPECT_EQ(f.get_int("u8"), 255);
  EXPECT_EQ(f.get_string("str").size(), 8u);

  ASSERT_EQ(f.tensors().size(), 3u);
  for (const TensorInfo& t : f.tensors()) EXPECT_EQ(t.offset % 128, 0u) << t.name;
  std::vector<float> out(6);
  dequantize(GgmlType::F32, f.tensor("w.f32").data, out.data(), 6);
  EXPECT_EQ(out, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  dequantize(GgmlType::F16, f.tensor("w.f16").data, out.data(), 4);
  EXPECT_EQ(out[2], 65504.0f);
  EXPECT_EQ(out[3], fp16_to_fp32(fp32_to_fp16(0.1f)));
  EXPECT_EQ(std::memcmp(f.tensor("w.q8").data, q8.data(), q8.size()), 0);
}

TEST(GgufWriter, WriteToDiskAndOpen) {
  GgufWriter w;
  w.set("general.architecture", Value::make_string("llama"));
  w.add_tensor_f32("t", {2}, {3.0f, 4.0f});
  const std::string path = ::testing::TempDir() + "/ptune_writer_test.gguf";
  w.write(path);
  const GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  float v[2];
  std::memcpy(v, f.tensor("t").data, sizeof v);
  EXPECT_EQ(v[1], 4.0f);
  std::remove(path.c_str());
  EXPECT_THROW(w.write("/nonexistent/dir/x.gguf"), GgufError);
}

TEST(GgufWriter, RejectsBadTensors) {
  GgufWriter w;
  EXPECT_THROW(w.add_tensor_f32("t", {3}, {1, 2}), GgufError);           // wrong byte count
  EXPECT_THROW(w.add_tensor_f32("t", {}, {}), GgufError);                // no dims
  EXPECT_THROW(w.add_tensor_f32("t", {1, 1, 1, 1, 1}, {1}), GgufError);  // 5 dims
  EXPECT_THROW(w.add_tensor_f32("t", {0}, {}), GgufError);               // zero dim
  EXPECT_THROW(w.add_tensor("t", {16}, GgmlType::Q4_0, std::vector<uint8_t>(9)), GgufError);
  EXPECT_THROW(w.add_tensor_f32(std::string(65, 'n'), {1}, {1}), GgufError);
  w.add_tensor_f32("t", {1}, {1});
  EXPECT_THROW(w.add_tensor_f32("t", {1}, {1}), GgufError);  // duplicate
  EXPECT_THROW(w.set_alignment(48), GgufError);
  EXPECT_THROW(w.set_alignment(0), GgufError);
  EXPECT_THROW(w.set("general.alignment", Value::make_uint(ValueType::U64, 32)), GgufError);
}

TEST(GgufWriter, EmptyFileIsValid) {
  const std::vector<uint8_t> bytes = GgufWriter().to_bytes();
  EXPECT_EQ(bytes.size(), 24u);
  const GgufFile f = GgufFile::parse(bytes.data(), bytes.size());
  EXPECT_TRUE(f.metadata().empty());
  EXPECT_TRUE(f.tensors().empty());
}

}  // namespace
}  // namespace ptune::gguf
