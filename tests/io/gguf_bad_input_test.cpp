// Malformed files: each test mutates the bytes of a good file and expects GgufError with a
// message that names the problem (and where it is), never a crash or an out-of-bounds read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ptune/io/gguf.h"
#include "test_util.h"

namespace ptune::gguf {
namespace {

using ::testing::HasSubstr;
using Bytes = std::vector<uint8_t>;

// A small good file: three keys and two tensors with distinctive names to find them by.
Bytes good_file() {
  GgufWriter w;
  w.set("key.alpha", Value::make_uint(ValueType::U32, 7));
  w.set("key.beta", Value::make_array(ValueType::I32, {Value::make_int(ValueType::I32, 1),
                                                       Value::make_int(ValueType::I32, 2)}));
  w.set("key.gamma", Value::make_string("hello"));
  w.add_tensor_f32("tensor.one", {4, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  w.add_tensor("tensor.two", {32}, GgmlType::Q4_0, Bytes(18, 0x11));
  return w.to_bytes();
}

size_t find(const Bytes& b, const std::string& s) {
  auto it = std::search(b.begin(), b.end(), s.begin(), s.end());
  EXPECT_NE(it, b.end()) << s;
  return static_cast<size_t>(it - b.begin());
}

template <typename T>
void poke(Bytes& b, size_t at, T v) {
  ASSERT_LE(at + sizeof(T), b.size());
  std::memcpy(b.data() + at, &v, sizeof(T));
}

// Layout around a key: u64 length | key | u32 type | value.
size_t key_len_at(const Bytes& b, const std::string& key) {
  return find(b, key) - 8;
}
size_t key_type_at(const Bytes& b, const std::string& key) {
  return find(b, key) + key.size();
}
size_t key_value_at(const Bytes& b, const std::string& key) {
  return key_type_at(b, key) + 4;
}

// Layout after a tensor name: u32 n_dims | u64 dims[n] | u32 type | u64 offset.
size_t ndims_at(const Bytes& b, const std::string& name) {
  return find(b, name) + name.size();
}
size_t dim_at(const Bytes& b, const std::string& name, int i) {
  return ndims_at(b, name) + 4 + 8 * i;
}
size_t ttype_at(const Bytes& b, const std::string& name, int n_dims) {
  return dim_at(b, name, n_dims);
}
size_t toffset_at(const Bytes& b, const std::string& name, int n_dims) {
  return ttype_at(b, name, n_dims) + 4;
}

std::string error_of(const Bytes& b) {
  try {
    GgufFile::parse(b.data(), b.size());
  } catch (const GgufError& e) {
    return e.what();
  }
  return "(parsed without error)";
}

TEST(GgufBadInput, GoodFileParses) {
  const Bytes b = good_file();
  const GgufFile f = GgufFile::parse(b.data(), b.size());
  EXPECT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.get_int("key.alpha"), 7);
}

TEST(GgufBadInput, EveryTruncationThrows) {
  const Bytes b = good_file();
  // The writer pads after the last tensor; cutting only that padding still leaves a valid file.
  const size_t needed = b.size() - (32 - 18);
  for (size_t n = 0; n < needed; ++n) {
    const Bytes cut(b.begin(), b.begin() + n);
    EXPECT_THROW(GgufFile::parse(cut.data(), cut.size()), GgufError) << "length " << n;
  }
  EXPECT_NO_THROW(GgufFile::parse(b.data(), needed));
  EXPECT_THAT(error_of(Bytes(b.begin(), b.begin() + 10)), HasSubstr("truncated file"));
  EXPECT_THAT(error_of(Bytes(b.begin(), b.end() - 20)), HasSubstr("runs past the end"));
}

TEST(GgufBadInput, EveryTruncationOfGgufPyFileThrows) {
  const std::string s = test::read_file(test::data_path("gguf/meta_v3.gguf"));
  const Bytes b(s.begin(), s.end());
  const GgufFile f = GgufFile::parse(b.data(), b.size());
  // Tensor "a" holds 0..5 as f32: find its bytes to learn where the data section starts.
  const TensorInfo& a = f.tensor("a");
  const auto it = std::search(b.begin(), b.end(), a.data, a.data + a.n_bytes);
  ASSERT_NE(it, b.end());
  const size_t data_start = static_cast<size_t>(it - b.begin()) - a.offset;
  const TensorInfo& last = f.tensors().back();
  const size_t end = data_start + last.offset + last.n_bytes;
  for (size_t n = 0; n < end; ++n) {
    EXPECT_THROW(GgufFile::parse(b.data(), n), GgufError) << "length " << n;
  }
  EXPECT_NO_THROW(GgufFile::parse(b.data(), end));
}

TEST(GgufBadInput, WrongMagic) {
  Bytes b = good_file();
  b[0] = 'X';
  EXPECT_THAT(error_of(b), HasSubstr("bad magic 58 47 55 46 at byte 0"));
  EXPECT_THAT(error_of(Bytes{'G', 'G'}), HasSubstr("truncated file: magic"));
  EXPECT_THAT(error_of(Bytes{}), HasSubstr("truncated file"));
}

TEST(GgufBadInput, Versions) {
  Bytes b = good_file();
  poke<uint32_t>(b, 4, 1);
  EXPECT_THAT(error_of(b), HasSubstr("GGUF version 1 is not supported"));
  poke<uint32_t>(b, 4, 4);
  EXPECT_THAT(error_of(b), HasSubstr("unsupported GGUF version 4"));
  poke<uint32_t>(b, 4, 0x03000000);
  EXPECT_THAT(error_of(b), HasSubstr("big-endian"));
  poke<uint32_t>(b, 4, 2);
  EXPECT_EQ(GgufFile::parse(b.data(), b.size()).version(), 2u);
}

TEST(GgufBadInput, AbsurdCounts) {
  Bytes b = good_file();
  poke<uint64_t>(b, 8, uint64_t{1} << 60);
  EXPECT_THAT(error_of(b), HasSubstr("tensor_count 1152921504606846976"));
  b = good_file();
  poke<uint64_t>(b, 16, uint64_t{1} << 60);
  EXPECT_THAT(error_of(b), HasSubstr("metadata_kv_count 1152921504606846976"));
  b = good_file();
  poke<uint64_t>(b, 8, 3);  // one more tensor than the infos hold: reads into the data
  EXPECT_THROW(GgufFile::parse(b.data(), b.size()), GgufError);
}

TEST(GgufBadInput, StringLengthPastEnd) {
  Bytes b = good_file();
  const size_t at = key_len_at(b, "key.beta");
  poke<uint64_t>(b, at, uint64_t{1} << 62);
  EXPECT_THAT(error_of(b), HasSubstr("metadata key at byte " + std::to_string(at) +
                                     " has length 4611686018427387904"));
  b = good_file();
  poke<uint64_t>(b, key_len_at(b, "hello"), UINT64_MAX);
  EXPECT_THAT(error_of(b), HasSubstr("metadata key 'key.gamma': string value at byte"));
  b = good_file();
  poke<uint64_t>(b, key_len_at(b, "tensor.two"), 1000000);
  EXPECT_THAT(error_of(b), HasSubstr("tensor name at byte"));
}

TEST(GgufBadInput, ArrayCountPastEnd) {
  Bytes b = good_file();
  poke<uint64_t>(b, key_value_at(b, "key.beta") + 4, uint64_t{1} << 61);
  EXPECT_THAT(error_of(b), HasSubstr("metadata key 'key.beta': array at byte"));
  EXPECT_THAT(error_of(b), HasSubstr("claims 2305843009213693952 i32 elements"));
}

TEST(GgufBadInput, TooManyArrayElements) {
  // 2^24 + 1 one-byte elements: the bytes are there, but parsing them would cost ~1.3 GB.
  GgufWriter w;
  w.set("big", Value::make_array(ValueType::U8, {}));
  Bytes b = w.to_bytes();
  const uint64_t n = (uint64_t{1} << 24) + 1;
  poke<uint64_t>(b, key_value_at(b, "big") + 4, n);
  b.resize(b.size() + n, 0);
  EXPECT_THAT(error_of(b), HasSubstr("metadata key 'big': array at byte"));
  EXPECT_THAT(error_of(b), HasSubstr("more than 16777216 array elements"));
}

TEST(GgufBadInput, UnknownValueTypes) {
  Bytes b = good_file();
  poke<uint32_t>(b, key_type_at(b, "key.alpha"), 13);
  EXPECT_THAT(error_of(b), HasSubstr("metadata key 'key.alpha': unknown value type 13"));
  b = good_file();
  poke<uint32_t>(b, key_value_at(b, "key.beta"), 77);
  EXPECT_THAT(error_of(b), HasSubstr("metadata key 'key.beta': unknown array element type 77"));
}

TEST(GgufBadInput, DuplicateKeyAndTensor) {
  Bytes b = good_file();
  std::memcpy(b.data() + find(b, "tensor.two"), "tensor.one", 10);
  EXPECT_THAT(error_of(b), HasSubstr("duplicate tensor name 'tensor.one'"));
  GgufWriter w;  // keys of equal length become duplicates when one byte changes
  w.set("key.aa", Value::make_uint(ValueType::U8, 1));
  w.set("key.ab", Value::make_uint(ValueType::U8, 2));
  b = w.to_bytes();
  b[find(b, "key.ab") + 5] = 'a';
  EXPECT_THAT(error_of(b), HasSubstr("metadata key 'key.aa': duplicate key at byte"));
}

TEST(GgufBadInput, TensorDims) {
  Bytes b = good_file();
  poke<uint32_t>(b, ndims_at(b, "tensor.one"), 5);
  EXPECT_THAT(error_of(b), HasSubstr("tensor 'tensor.one' at byte"));
  EXPECT_THAT(error_of(b), HasSubstr("n_dims 5 is outside 1..4"));
  b = good_file();
  poke<uint32_t>(b, ndims_at(b, "tensor.one"), 0);
  EXPECT_THAT(error_of(b), HasSubstr("n_dims 0 is outside 1..4"));
  b = good_file();
  poke<uint64_t>(b, dim_at(b, "tensor.one", 1), 0);
  EXPECT_THAT(error_of(b), HasSubstr("tensor 'tensor.one' at byte"));
  EXPECT_THAT(error_of(b), HasSubstr("dimension 1 is zero"));
  b = good_file();
  poke<uint64_t>(b, dim_at(b, "tensor.one", 0), uint64_t{1} << 40);
  poke<uint64_t>(b, dim_at(b, "tensor.one", 1), uint64_t{1} << 40);
  EXPECT_THAT(error_of(b), HasSubstr("element count overflows"));
  b = good_file();
  poke<uint64_t>(b, dim_at(b, "tensor.one", 0), uint64_t{1} << 62);  // count fits, bytes don't
  poke<uint64_t>(b, dim_at(b, "tensor.one", 1), 1);
  EXPECT_THAT(error_of(b), HasSubstr("tensor 'tensor.one': byte size"));
  b = good_file();
  poke<uint64_t>(b, dim_at(b, "tensor.two", 0), 16);  // half a Q4_0 block
  EXPECT_THAT(error_of(b), HasSubstr("dims[0] = 16 is not a multiple of the Q4_0 block size 32"));
}

TEST(GgufBadInput, TensorTypes) {
  Bytes b = good_file();
  poke<uint32_t>(b, ttype_at(b, "tensor.one", 2), 99);
  EXPECT_THAT(error_of(b), HasSubstr("tensor 'tensor.one' at byte"));
  EXPECT_THAT(error_of(b), HasSubstr("unknown ggml type 99"));
  b = good_file();
  poke<uint32_t>(b, ttype_at(b, "tensor.one", 2), 4);  // removed Q4_2
  EXPECT_THAT(error_of(b), HasSubstr("unknown ggml type 4"));
}

TEST(GgufBadInput, TensorOffsets) {
  Bytes b = good_file();
  poke<uint64_t>(b, toffset_at(b, "tensor.two", 1), 8);
  EXPECT_THAT(error_of(b),
              HasSubstr("tensor 'tensor.two': offset 8 is not a multiple of the alignment 32"));
  b = good_file();
  poke<uint64_t>(b, toffset_at(b, "tensor.two", 1), uint64_t{1} << 40);
  EXPECT_THAT(error_of(b), HasSubstr("tensor 'tensor.two': data at offset 1099511627776"));
  EXPECT_THAT(error_of(b), HasSubstr("runs past the end of the file"));
  b = good_file();
  poke<uint64_t>(b, toffset_at(b, "tensor.two", 1), UINT64_MAX - 31);  // aligned, wraps if added
  EXPECT_THAT(error_of(b), HasSubstr("runs past the end of the file"));
  b = good_file();
  poke<uint64_t>(b, dim_at(b, "tensor.two", 0), 64);  // 36 bytes from offset 32: 4 past the end
  EXPECT_THAT(error_of(b),
              HasSubstr("tensor 'tensor.two': data at offset 32 (36 bytes) runs past"));
  b = good_file();
  poke<uint64_t>(b, toffset_at(b, "tensor.two", 1), 0);
  EXPECT_THAT(error_of(b), HasSubstr("tensors 'tensor.one' and 'tensor.two' overlap"));
}

TEST(GgufBadInput, Alignment) {
  GgufWriter w;
  w.set_alignment(64);
  w.add_tensor_f32("t", {1}, {1});
  const Bytes good = w.to_bytes();
  EXPECT_EQ(GgufFile::parse(good.data(), good.size()).alignment(), 64u);
  Bytes b = good;
  poke<uint32_t>(b, key_value_at(b, "general.alignment"), 48);
  EXPECT_THAT(error_of(b), HasSubstr("general.alignment 48 is not a nonzero power of two"));
  poke<uint32_t>(b, key_value_at(b, "general.alignment"), 0);
  EXPECT_THAT(error_of(b), HasSubstr("general.alignment 0 is not a nonzero power of two"));
  b = good;
  poke<uint32_t>(b, key_type_at(b, "general.alignment"), 5);  // i32
  EXPECT_THAT(error_of(b), HasSubstr("general.alignment must be u32, got i32"));
  b = good;
  poke<uint32_t>(b, key_value_at(b, "general.alignment"), 16);  // data start moves: still valid
  EXPECT_NO_THROW(GgufFile::parse(b.data(), b.size()));
}

TEST(GgufBadInput, NestingTooDeep) {
  Value v = Value::make_uint(ValueType::U8, 1);
  for (int i = 0; i < 9; ++i) v = Value::make_array(v.type(), {v});
  GgufWriter w;
  w.set("deep", v);
  const Bytes b = w.to_bytes();
  EXPECT_THAT(error_of(b), HasSubstr("metadata key 'deep': arrays nested deeper than 8 levels"));
  Value ok = Value::make_uint(ValueType::U8, 1);
  for (int i = 0; i < 8; ++i) ok = Value::make_array(ok.type(), {ok});
  GgufWriter w2;
  w2.set("deep", ok);
  const Bytes b2 = w2.to_bytes();
  EXPECT_NO_THROW(GgufFile::parse(b2.data(), b2.size()));
}

TEST(GgufBadInput, LongTensorName) {
  Bytes b = good_file();
  // Widen "tensor.one" to 70 bytes by splicing in padding after the name.
  const size_t at = find(b, "tensor.one");
  poke<uint64_t>(b, at - 8, 70);
  b.insert(b.begin() + static_cast<std::ptrdiff_t>(at + 10), 60, 'x');
  EXPECT_THAT(error_of(b), HasSubstr("name longer than 64 bytes"));
}

TEST(GgufBadInput, EmptyFileOnDisk) {
  const std::string path = ::testing::TempDir() + "/ptune_empty.gguf";
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::fclose(f);
  }
  try {
    GgufFile::open(path);
    ADD_FAILURE() << "empty file opened";
  } catch (const GgufError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path + ": empty file"));
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace ptune::gguf
