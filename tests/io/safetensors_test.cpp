// safetensors: files written by the reference implementation (tests/data/peft, made by
// scripts/reference/make_peft_fixtures.py) read with the right values and re-serialize to the same
// bytes; malformed files raise SafetensorsError naming the problem, never crash.
#include "ptune/io/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"

namespace ptune::safetensors {
namespace {

using ::testing::HasSubstr;
using Bytes = std::vector<uint8_t>;
using json = nlohmann::json;

Bytes file_bytes(const std::string& relative) {
  const std::string s = test::read_file(test::data_path(relative));
  return Bytes(s.begin(), s.end());
}

// A file from a raw header string and a buffer of `buffer_size` bytes (values 0, 1, 2, ...).
Bytes make_file(const std::string& header, size_t buffer_size) {
  const uint64_t n = header.size();
  Bytes out(8 + header.size() + buffer_size);
  std::memcpy(out.data(), &n, 8);
  if (!header.empty()) std::memcpy(out.data() + 8, header.data(), header.size());
  for (size_t i = 0; i < buffer_size; ++i) out[8 + header.size() + i] = static_cast<uint8_t>(i);
  return out;
}

std::string parse_error(const Bytes& b) {
  try {
    parse(b.data(), b.size());
  } catch (const SafetensorsError& e) {
    return e.what();
  }
  return "(no error)";
}

// Integers decoded from raw little-endian bytes, as doubles, for comparing with dtypes.json.
std::vector<double> as_doubles(const Tensor& t) {
  std::vector<double> out;
  const size_t n = static_cast<size_t>(t.numel());
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = t.data.data() + i * dtype_size(t.dtype);
    switch (t.dtype) {
      case Dtype::I64: { int64_t v; std::memcpy(&v, p, 8); out.push_back(static_cast<double>(v)); break; }
      case Dtype::I32: { int32_t v; std::memcpy(&v, p, 4); out.push_back(v); break; }
      case Dtype::I16: { int16_t v; std::memcpy(&v, p, 2); out.push_back(v); break; }
      case Dtype::I8: out.push_back(static_cast<int8_t>(*p)); break;
      case Dtype::U8: out.push_back(*p); break;
      case Dtype::BOOL: out.push_back(*p != 0); break;
      case Dtype::F64: { double v; std::memcpy(&v, p, 8); out.push_back(v); break; }
      default: out.push_back(t.to_float()[i]); break;
    }
  }
  return out;
}

TEST(Safetensors, DtypeTable) {
  for (auto t : {Dtype::BOOL, Dtype::U8, Dtype::I8, Dtype::I16, Dtype::I32, Dtype::I64, Dtype::F16,
                 Dtype::BF16, Dtype::F32, Dtype::F64}) {
    EXPECT_EQ(dtype_from_name(dtype_name(t)), t);
  }
  EXPECT_EQ(dtype_size(Dtype::BF16), 2u);
  EXPECT_EQ(dtype_size(Dtype::I64), 8u);
  EXPECT_FALSE(dtype_from_name("F8_E4M3").has_value());
  EXPECT_FALSE(dtype_from_name("f32").has_value());
}

TEST(Safetensors, ReadsEveryDtypeFromTheReferenceWriter) {
  const File f = read_file(test::data_path("peft/dtypes.safetensors"));
  const json want = json::parse(test::read_file(test::data_path("peft/dtypes.json")));
  EXPECT_EQ(f.metadata.at("format"), "pt");
  EXPECT_EQ(f.metadata.at("source"), "make_peft_fixtures");
  ASSERT_EQ(f.tensors.size(), want.size());
  for (const auto& [name, w] : want.items()) {
    SCOPED_TRACE(name);
    const Tensor& t = f.get(name);
    EXPECT_EQ(t.shape, w["shape"].get<std::vector<uint64_t>>());
    const auto values = as_doubles(t);
    const auto expected = w["values"].get<std::vector<double>>();
    ASSERT_EQ(values.size(), expected.size());
    for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(values[i], expected[i]) << i;
  }
  EXPECT_EQ(f.get("f16").dtype, Dtype::F16);
  EXPECT_EQ(f.get("bf16").dtype, Dtype::BF16);
  EXPECT_EQ(f.get("scalar").numel(), 1u);
  EXPECT_TRUE(f.get("empty").data.empty());
  EXPECT_EQ(f.find("nope"), nullptr);
  EXPECT_THAT([&] { f.get("nope"); }, testing::ThrowsMessage<SafetensorsError>(HasSubstr("'nope'")));
  EXPECT_THAT([&] { f.get("i32").to_float(); },
              testing::ThrowsMessage<SafetensorsError>(HasSubstr("not a floating-point")));
}

TEST(Safetensors, ReserializesReferenceFilesByteForByte) {
  for (const char* path : {"peft/dtypes.safetensors", "peft/prompt_tuning/adapter_model.safetensors",
                           "peft/p_tuning/adapter_model.safetensors",
                           "peft/prefix_tuning/adapter_model.safetensors",
                           "peft/prefix_projection/adapter_model.safetensors"}) {
    SCOPED_TRACE(path);
    const Bytes original = file_bytes(path);
    const File f = parse(original.data(), original.size());
    EXPECT_EQ(serialize(f.tensors, f.metadata), original);
  }
}

TEST(Safetensors, WriteFileRoundTrip) {
  const auto dir = std::filesystem::temp_directory_path() / "ptune_safetensors_test";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "t.safetensors").string();
  Tensor half{"h", Dtype::F16, {2}, {0x00, 0x3c, 0x00, 0xc0}};  // 1.0, -2.0
  const std::vector<Tensor> tensors = {make_f32("b", {2, 3}, {1, 2, 3, 4, 5, 6}),
                                       make_f32("a", {}, {7}), half};
  write_file(path, tensors);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  const File f = read_file(path);
  EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  ASSERT_EQ(f.tensors.size(), 3u);
  EXPECT_EQ(f.tensors[0].name, "a");  // F32 before F16, then by name
  EXPECT_EQ(f.tensors[1].name, "b");
  EXPECT_EQ(f.tensors[2].name, "h");
  EXPECT_EQ(f.get("b").shape, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(f.get("b").to_float(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(f.get("h").to_float(), (std::vector<float>{1.0f, -2.0f}));
  // The header is padded so the buffer starts 8-byte aligned.
  const std::string raw = test::read_file(path);
  uint64_t n = 0;
  std::memcpy(&n, raw.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(raw.substr(8, 30), R"({"__metadata__":{"format":"pt")");
  std::filesystem::remove_all(dir);
}

TEST(Safetensors, WriterRejectsBadTensors) {
  auto err = [](const std::vector<Tensor>& ts) {
    try {
      serialize(ts);
    } catch (const SafetensorsError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_THAT(err({make_f32("x", {1}, {1}), make_f32("x", {1}, {2})}), HasSubstr("two tensors named 'x'"));
  EXPECT_THAT(err({make_f32("", {1}, {1})}), HasSubstr("empty name"));
  EXPECT_THAT(err({make_f32("__metadata__", {1}, {1})}), HasSubstr("__metadata__"));
  EXPECT_THAT(err({Tensor{"x", Dtype::F32, {3}, Bytes(8)}}), HasSubstr("8 bytes"));
  EXPECT_THROW(make_f32("x", {2, 2}, {1, 2, 3}), SafetensorsError);
}

TEST(Safetensors, NoTensorsAndNoMetadata) {
  const Bytes b = serialize({}, {});
  const File f = parse(b.data(), b.size());
  EXPECT_TRUE(f.tensors.empty());
  EXPECT_TRUE(f.metadata.empty());
}

// ---- malformed input ----

constexpr char kGood[] =
    R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
    R"("b":{"dtype":"I16","shape":[2,1],"data_offsets":[8,12]}})";

TEST(SafetensorsBadInput, GoodBaseline) {
  const Bytes b = make_file(kGood, 12);
  const File f = parse(b.data(), b.size());
  EXPECT_EQ(f.tensors.size(), 2u);
}

TEST(SafetensorsBadInput, Truncated) {
  const Bytes good = make_file(kGood, 12);
  EXPECT_THAT(parse_error(Bytes(good.begin(), good.begin() + 5)),
              HasSubstr("truncated file: the header length needs 8 bytes at byte 0, only 5 left"));
  EXPECT_THAT(parse_error(Bytes(good.begin(), good.begin() + 40)),
              HasSubstr("header length 110 at byte 0 but only 32 bytes follow"));
  // Cut inside the data buffer: the tensors claim more than is there.
  EXPECT_THAT(parse_error(Bytes(good.begin(), good.end() - 2)),
              HasSubstr("tensor 'b': data_offsets [8, 12] run past the end of the 10-byte data buffer"));
  EXPECT_THAT(parse_error({}), HasSubstr("only 0 left"));
}

TEST(SafetensorsBadInput, HeaderLengthTooLarge) {
  Bytes b = make_file(kGood, 12);
  const uint64_t huge = ~uint64_t{0};
  std::memcpy(b.data(), &huge, 8);
  EXPECT_THAT(parse_error(b), HasSubstr("exceeds the 100000000-byte limit"));
  const uint64_t big = 1000;
  std::memcpy(b.data(), &big, 8);
  EXPECT_THAT(parse_error(b), HasSubstr("header length 1000 at byte 0 but only"));
}

TEST(SafetensorsBadInput, BadJson) {
  EXPECT_THAT(parse_error(make_file(R"({"a":{"dtype":"F32",)", 0)),
              HasSubstr("header JSON is invalid at byte"));
  EXPECT_THAT(parse_error(make_file(R"({"a" 1})", 0)), HasSubstr("invalid at byte 13"));
  EXPECT_THAT(parse_error(make_file("[1, 2]", 0)), HasSubstr("does not start with '{'"));
  EXPECT_THAT(parse_error(make_file("", 0)), HasSubstr("does not start with '{'"));
  EXPECT_THAT(parse_error(make_file("{\"\xff\":1}", 0)), HasSubstr("header JSON is invalid"));
  EXPECT_THAT(parse_error(make_file(R"({"a":1})", 0)), HasSubstr("tensor 'a': entry must be an object"));
  std::string deep = "{\"a\":";
  for (int i = 0; i < 100000; ++i) deep += "[";
  EXPECT_THAT(parse_error(make_file(deep, 0)), HasSubstr("nests deeper than 8"));
}

TEST(SafetensorsBadInput, DuplicateKeys) {
  EXPECT_THAT(parse_error(make_file(
                  R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                  R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)),
              HasSubstr("key 'a' twice (duplicate tensor name)"));
  EXPECT_THAT(parse_error(make_file(
                  R"({"a":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}})", 4)),
              HasSubstr("key 'dtype' twice in 'a' at byte 28"));
  EXPECT_THAT(parse_error(make_file(R"({"__metadata__":{"format":"pt","format":"np"}})", 0)),
              HasSubstr("header JSON has the key 'format' twice in '__metadata__' at byte 39"));
  // The same key in different objects is fine: every entry has a "dtype".
  EXPECT_EQ(parse_error(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                  R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                  8)),
            "(no error)");
}

TEST(SafetensorsBadInput, OffsetsOutOfRange) {
  EXPECT_THAT(parse_error(make_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[8,12]}})", 8)),
              HasSubstr("tensor 'a': data_offsets [8, 12] run past the end of the 8-byte data buffer"));
  EXPECT_THAT(parse_error(make_file(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", 8)),
              HasSubstr("end before they begin"));
  EXPECT_THAT(
      parse_error(make_file(
          R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,18446744073709551616]}})",
          8)),
      HasSubstr("data_offsets\"[1] must be a non-negative integer, got float"));
  EXPECT_THAT(parse_error(make_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}})", 1)),
              HasSubstr("[0] must be a non-negative integer, got -1"));
  EXPECT_THAT(parse_error(make_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}})", 1)),
              HasSubstr("must hold 2 integers, has 3"));
}

TEST(SafetensorsBadInput, OverlapGapAndTrailingBytes) {
  EXPECT_THAT(parse_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                    R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)),
              HasSubstr("tensor 'b': data_offsets [4, 8] overlap tensor 'a' [0, 8]"));
  EXPECT_THAT(parse_error(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                    R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", 12)),
              HasSubstr("tensor 'b': data_offsets [8, 12] leave a gap: the previous tensor ends at 4"));
  EXPECT_THAT(parse_error(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 6)),
              HasSubstr("the tensors cover 4 bytes of the 6-byte data buffer"));
  EXPECT_THAT(parse_error(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)),
              HasSubstr("leave a gap: the previous tensor ends at 0"));
}

TEST(SafetensorsBadInput, DtypeAndShapeMismatch) {
  EXPECT_THAT(parse_error(make_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)),
              HasSubstr("tensor 'a': data_offsets [0, 8] hold 8 bytes but F32 shape [3] needs 12"));
  EXPECT_THAT(parse_error(make_file(R"({"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", 1)),
              HasSubstr("tensor 'a': unsupported dtype \"F8_E4M3\""));
  EXPECT_THAT(parse_error(make_file(R"({"a":{"dtype":4,"shape":[1],"data_offsets":[0,1]}})", 1)),
              HasSubstr("\"dtype\" must be a string, got integer"));
  EXPECT_THAT(parse_error(make_file(R"({"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}})", 1)),
              HasSubstr("\"shape\"[0] must be a non-negative integer, got float"));
  EXPECT_THAT(parse_error(make_file(R"({"a":{"dtype":"U8","shape":3,"data_offsets":[0,1]}})", 1)),
              HasSubstr("\"shape\" must be an array of integers, got integer"));
  EXPECT_THAT(parse_error(make_file(R"({"a":{"dtype":"U8","data_offsets":[0,1]}})", 1)),
              HasSubstr("tensor 'a': entry has no \"shape\""));
  EXPECT_THAT(
      parse_error(make_file(
          R"({"a":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,1]}})", 1)),
      HasSubstr("element count overflows 64 bits"));
  EXPECT_THAT(
      parse_error(make_file(
          R"({"a":{"dtype":"I64","shape":[4294967296,1073741824],"data_offsets":[0,1]}})", 1)),
      HasSubstr("overflow a 64-bit byte count"));
  // A zero in the shape makes any overflow harmless: zero elements, zero bytes.
  EXPECT_EQ(parse_error(make_file(
                R"({"a":{"dtype":"U8","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}})", 0)),
            "(no error)");
}

TEST(SafetensorsBadInput, Metadata) {
  EXPECT_THAT(parse_error(make_file(R"({"__metadata__":{"format":1}})", 0)),
              HasSubstr("\"__metadata__\" value of 'format' must be a string, got integer"));
  EXPECT_THAT(parse_error(make_file(R"({"__metadata__":[]})", 0)),
              HasSubstr("\"__metadata__\" must be an object of strings, got array"));
  EXPECT_THAT(parse_error(make_file(R"({"":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}})", 0)),
              HasSubstr("empty name"));
}

TEST(SafetensorsBadInput, ReadFileNamesThePath) {
  EXPECT_THAT([] { read_file("/nonexistent/x.safetensors"); },
              testing::ThrowsMessage<SafetensorsError>(HasSubstr("/nonexistent/x.safetensors")));
  const auto path = std::filesystem::temp_directory_path() / "ptune_bad.safetensors";
  {
    std::ofstream f(path, std::ios::binary);
    f << "0123456789";
  }
  EXPECT_THAT([&] { read_file(path.string()); },
              testing::ThrowsMessage<SafetensorsError>(HasSubstr(path.string() + ": header length")));
  std::filesystem::remove(path);
}

// Every prefix of a good file and every single-byte corruption either parses or throws
// SafetensorsError: never crashes (the fuzzer explores further).
TEST(SafetensorsBadInput, EveryTruncationAndByteFlip) {
  const Bytes good = file_bytes("peft/prefix_tuning/adapter_model.safetensors");
  for (size_t n = 0; n < good.size(); ++n) {
    const Bytes cut(good.begin(), good.begin() + static_cast<long>(n));
    EXPECT_NE(parse_error(cut), "(no error)") << n;
  }
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t x : {0x01, 0x80, 0xff}) {
      Bytes b = good;
      b[i] ^= x;
      try {
        parse(b.data(), b.size());
      } catch (const SafetensorsError&) {
      }
    }
  }
}

}  // namespace
}  // namespace ptune::safetensors
