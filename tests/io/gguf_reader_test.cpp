// Reading valid files written by gguf-py: every metadata type, nested arrays, v2 and v3,
// custom alignment, tensor infos and data, and the typed getters.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "ptune/io/gguf.h"
#include "test_util.h"

namespace ptune::gguf {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const GgufError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(GgufReader, V3EveryScalarType) {
  const GgufFile f = GgufFile::open(test::data_path("gguf/meta_v3.gguf"));
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.get_string("general.architecture"), "test");

  struct Want {
    const char* key;
    ValueType type;
  };
  for (const Want& w : {Want{"test.u8", ValueType::U8},
                        {"test.i8", ValueType::I8},
                        {"test.u16", ValueType::U16},
                        {"test.i16", ValueType::I16},
                        {"test.u32", ValueType::U32},
                        {"test.i32", ValueType::I32},
                        {"test.f32", ValueType::F32},
                        {"test.bool", ValueType::BOOL},
                        {"test.string", ValueType::STRING},
                        {"test.u64", ValueType::U64},
                        {"test.i64", ValueType::I64},
                        {"test.f64", ValueType::F64}}) {
    const Value* v = f.find(w.key);
    ASSERT_NE(v, nullptr) << w.key;
    EXPECT_EQ(v->type(), w.type) << w.key;
  }
  EXPECT_EQ(f.get_int("test.u8"), 200);
  EXPECT_EQ(f.get_int("test.i8"), -100);
  EXPECT_EQ(f.get_int("test.u16"), 60000);
  EXPECT_EQ(f.get_int("test.i16"), -30000);
  EXPECT_EQ(f.get_int("test.u32"), 4000000000);
  EXPECT_EQ(f.get_int("test.i32"), -2000000000);
  EXPECT_EQ(f.get_float("test.f32"), 1.5);
  EXPECT_TRUE(f.get_bool("test.bool", false));
  EXPECT_EQ(f.get_string("test.string"), "h\xc3\xa9llo w\xc3\xb6rld");
  EXPECT_EQ(f.find("test.u64")->as_uint(), (uint64_t{1} << 63) + 5);
  EXPECT_EQ(f.get_int("test.i64"), -(int64_t{1} << 62));
  EXPECT_EQ(f.get_float("test.f64"), 0.1);
  EXPECT_EQ(f.get_float("test.u8"), 200.0);  // integers convert to float
}

TEST(GgufReader, V3ArraysOfEveryType) {
  const GgufFile f = GgufFile::open(test::data_path("gguf/meta_v3.gguf"));
  EXPECT_THAT(f.get_int_array("test.arr.u8"), ElementsAre(0, 1, 255));
  EXPECT_THAT(f.get_int_array("test.arr.i8"), ElementsAre(-128, 0, 127));
  EXPECT_THAT(f.get_int_array("test.arr.u16"), ElementsAre(0, 65535));
  EXPECT_THAT(f.get_int_array("test.arr.i16"), ElementsAre(-32768, 32767));
  EXPECT_THAT(f.get_int_array("test.arr.u32"), ElementsAre(0, 4294967295));
  EXPECT_THAT(f.get_int_array("test.arr.i32"), ElementsAre(-2147483648LL, 2147483647));
  EXPECT_THAT(f.get_float_array("test.arr.f32"), ElementsAre(0.5, -1.25, 3.0));
  EXPECT_THAT(f.get_string_array("test.arr.string"), ElementsAre("a", "", "ccc"));
  EXPECT_THAT(f.get_int_array("test.arr.i64"), ElementsAre(INT64_MIN, INT64_MAX));
  EXPECT_THAT(f.get_float_array("test.arr.f64"), ElementsAre(1e300, -2.5e-300));

  const Value& bools = *f.find("test.arr.bool");
  EXPECT_EQ(bools.array_type(), ValueType::BOOL);
  ASSERT_EQ(bools.as_array().size(), 3u);
  EXPECT_TRUE(bools.as_array()[0].as_bool());
  EXPECT_FALSE(bools.as_array()[1].as_bool());

  const Value& u64s = *f.find("test.arr.u64");
  EXPECT_EQ(u64s.as_array()[1].as_uint(), UINT64_MAX);
  // UINT64_MAX does not fit int64: the getter says so instead of wrapping.
  EXPECT_THAT(message_of([&] { f.get_int_array("test.arr.u64"); }),
              HasSubstr("does not fit int64"));
}

TEST(GgufReader, NestedArrays) {
  const GgufFile f = GgufFile::open(test::data_path("gguf/meta_v3.gguf"));
  const Value& nested = *f.find("test.arr.nested");
  ASSERT_EQ(nested.array_type(), ValueType::ARRAY);
  ASSERT_EQ(nested.as_array().size(), 2u);
  EXPECT_EQ(nested.as_array()[0].array_type(), ValueType::I32);
  EXPECT_EQ(nested.as_array()[0].as_array()[1].as_int(), 2);
  EXPECT_EQ(nested.as_array()[1].as_array()[0].as_int(), 3);
  const Value& strs = *f.find("test.arr.nested_str");
  EXPECT_EQ(strs.as_array()[1].as_array()[0].as_string(), "z");
  EXPECT_THAT(message_of([&] { f.get_int_array("test.arr.nested"); }),
              HasSubstr("expected an array of integers, got an array of array"));
}

TEST(GgufReader, MetadataInFileOrder) {
  const GgufFile f = GgufFile::open(test::data_path("gguf/meta_v3.gguf"));
  ASSERT_GE(f.metadata().size(), 3u);
  EXPECT_EQ(f.metadata()[0].first, "general.architecture");
  EXPECT_EQ(f.metadata()[1].first, "general.alignment");
  EXPECT_EQ(f.metadata()[2].first, "test.u8");
}

TEST(GgufReader, TensorsAndData) {
  const GgufFile f = GgufFile::open(test::data_path("gguf/meta_v3.gguf"));
  ASSERT_EQ(f.tensors().size(), 2u);
  const TensorInfo& a = f.tensor("a");
  EXPECT_THAT(a.dims, ElementsAre(3u, 2u));  // numpy shape (2, 3), ggml order reversed
  EXPECT_EQ(a.type, GgmlType::F32);
  EXPECT_EQ(a.n_elements, 6u);
  EXPECT_EQ(a.n_bytes, 24u);
  EXPECT_EQ(a.offset % 64, 0u);
  float vals[6];
  std::memcpy(vals, a.data, sizeof vals);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(vals[i], static_cast<float>(i));

  const TensorInfo& b = f.tensor("b");
  EXPECT_EQ(b.type, GgmlType::F16);
  EXPECT_EQ(b.offset % 64, 0u);
  std::vector<float> out(5);
  dequantize(b.type, b.data, out.data(), 5);
  EXPECT_THAT(out, ElementsAre(1.0f, -2.0f, 0.5f, 3.0f, 65504.0f));

  EXPECT_EQ(f.find_tensor("nope"), nullptr);
  EXPECT_THAT(message_of([&] { f.tensor("nope"); }), HasSubstr("missing tensor 'nope'"));
}

TEST(GgufReader, Version2DefaultAlignment) {
  const GgufFile f = GgufFile::open(test::data_path("gguf/meta_v2.gguf"));
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.get_int("test.u32"), 4000000000);
  EXPECT_EQ(f.tensor("b").offset % 32, 0u);
}

TEST(GgufReader, GettersDefaultsAndErrors) {
  const GgufFile f = GgufFile::open(test::data_path("gguf/meta_v3.gguf"));
  EXPECT_EQ(f.get_int("absent", 42), 42);
  EXPECT_EQ(f.get_float("absent", 2.5), 2.5);
  EXPECT_TRUE(f.get_bool("absent", true));
  EXPECT_EQ(f.get_string("absent", "dflt"), "dflt");
  EXPECT_FALSE(f.has("absent"));
  EXPECT_TRUE(f.has("test.u8"));
  EXPECT_EQ(message_of([&] { f.get_int("absent"); }), "missing metadata key 'absent'");
  EXPECT_EQ(message_of([&] { f.get_string("test.u8"); }),
            "metadata key 'test.u8': expected a string value, got u8");
  EXPECT_THAT(message_of([&] { f.get_int("test.string", 0); }),
              HasSubstr("expected an integer value, got string"));
  EXPECT_THAT(message_of([&] { f.get_bool("test.u8", false); }), HasSubstr("expected a bool"));
  EXPECT_THAT(message_of([&] { f.get_string_array("test.arr.u8"); }),
              HasSubstr("expected an array of string"));
  EXPECT_THAT(message_of([&] { f.get_int("test.f32"); }), HasSubstr("got f32"));
}

TEST(GgufReader, OpenMissingFileNamesPath) {
  EXPECT_THAT(message_of([] { GgufFile::open("/nonexistent/x.gguf"); }),
              HasSubstr("/nonexistent/x.gguf: open failed"));
  EXPECT_THAT(message_of([] { GgufFile::open(test::data_path("gguf")); }),
              HasSubstr("not a regular file"));
}

TEST(GgufReader, ParseCopyOutlivesInput) {
  std::string bytes = test::read_file(test::data_path("gguf/meta_v3.gguf"));
  GgufFile f = GgufFile::parse(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  bytes.assign(bytes.size(), '\0');  // the parsed file owns its copy
  GgufFile moved = std::move(f);
  float first;
  std::memcpy(&first, moved.tensor("a").data + 4, sizeof first);
  EXPECT_EQ(first, 1.0f);
}

TEST(Value, ConstructionChecksRanges) {
  EXPECT_THROW(Value::make_uint(ValueType::U8, 256), GgufError);
  EXPECT_THROW(Value::make_int(ValueType::I8, -129), GgufError);
  EXPECT_THROW(Value::make_int(ValueType::U32, -1), GgufError);
  EXPECT_THROW(Value::make_uint(ValueType::STRING, 1), GgufError);
  EXPECT_THROW(Value::make_float(ValueType::I32, 1.0), GgufError);
  EXPECT_EQ(Value::make_int(ValueType::U16, 7).as_uint(), 7u);
  EXPECT_EQ(Value::make_uint(ValueType::I64, 7).as_int(), 7);
  EXPECT_EQ(Value::make_int(ValueType::I32, -3).as_float(), -3.0);
  EXPECT_THROW(Value::make_int(ValueType::I32, -3).as_uint(), GgufError);
  EXPECT_EQ(Value::make_float(ValueType::F32, 0.1).as_float(), static_cast<double>(0.1f));
  EXPECT_THROW(Value::make_array(ValueType::U8, {Value::make_bool(true)}), GgufError);
  const Value empty = Value::make_array(ValueType::STRING, {});
  EXPECT_TRUE(empty.as_array().empty());
  EXPECT_THROW(empty.as_string(), GgufError);
  EXPECT_THROW(Value::make_string("x").array_type(), GgufError);
  EXPECT_TRUE(Value::make_uint(ValueType::U8, 1).is_integer());
  EXPECT_TRUE(Value::make_float(ValueType::F64, 1).is_float());
  EXPECT_STREQ(value_type_name(ValueType::ARRAY), "array");
}

}  // namespace
}  // namespace ptune::gguf
