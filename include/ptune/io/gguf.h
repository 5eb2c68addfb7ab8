// GGUF container reader and writer.
//
// Format (little-endian), versions 2 and 3:
//   magic "GGUF" | u32 version | u64 tensor_count | u64 metadata_kv_count
//   metadata_kv_count x { string key | u32 value_type | value }
//   tensor_count x { string name | u32 n_dims | u64 dims[n_dims] | u32 ggml_type | u64 offset }
//   padding to `general.alignment` (default 32)
//   tensor data; each tensor at data_start + offset (offset a multiple of the alignment)
// A string is u64 length + bytes (no NUL). An array is u32 element type + u64 count + elements;
// arrays may nest. dims[0] is the contiguous dimension, so a PyTorch [out, in] weight has
// dims {in, out}.
//
// Every check on untrusted bytes lives in the reader: a malformed file raises GgufError naming
// the problem and the byte offset; nothing is read out of bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ptune/io/ggml_types.h"

namespace ptune::gguf {

class GgufError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ValueType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};
const char* value_type_name(ValueType t);

// One metadata value. Integers of every width are held as int64/uint64, floats as double;
// type() keeps the on-disk type so a writer can reproduce the file.
class Value {
 public:
  Value() = default;
  static Value make_uint(ValueType t, uint64_t v);
  static Value make_int(ValueType t, int64_t v);
  static Value make_float(ValueType t, double v);
  static Value make_bool(bool v);
  static Value make_string(std::string v);
  static Value make_array(ValueType elem_type, std::vector<Value> elems);

  ValueType type() const { return type_; }
  bool is_integer() const;
  bool is_float() const;

  // Accessors throw GgufError on a type mismatch or a value out of the target's range.
  int64_t as_int() const;
  uint64_t as_uint() const;
  double as_float() const;  // integers convert too
  bool as_bool() const;
  const std::string& as_string() const;
  ValueType array_type() const;  // element type of an ARRAY
  const std::vector<Value>& as_array() const;

 private:
  ValueType type_ = ValueType::U8;
  ValueType elem_type_ = ValueType::U8;
  uint64_t u_ = 0;
  int64_t i_ = 0;
  double f_ = 0.0;
  std::string s_;
  std::shared_ptr<std::vector<Value>> arr_;
};

struct TensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  // ggml order: dims[0] contiguous
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;  // relative to the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into the mapped file; valid while the GgufFile lives
};

class GgufFile {
 public:
  // Maps the file read-only. Throws GgufError naming the path and the problem.
  static GgufFile open(const std::string& path);
  // Parses an in-memory copy (tests, fuzzing). The bytes are copied and owned.
  static GgufFile parse(const uint8_t* bytes, size_t size);

  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  ~GgufFile();

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }
  const Value* find(std::string_view key) const;  // nullptr when absent
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed getters: the one-argument form throws GgufError("missing metadata key 'k'") when
  // absent; the two-argument form returns the default when absent. Both throw on a wrong type.
  int64_t get_int(std::string_view key) const;
  int64_t get_int(std::string_view key, int64_t def) const;
  double get_float(std::string_view key) const;
  double get_float(std::string_view key, double def) const;
  bool get_bool(std::string_view key, bool def) const;
  std::string get_string(std::string_view key) const;
  std::string get_string(std::string_view key, const std::string& def) const;
  std::vector<std::string> get_string_array(std::string_view key) const;
  std::vector<int64_t> get_int_array(std::string_view key) const;
  std::vector<double> get_float_array(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;  // nullptr when absent
  const TensorInfo& tensor(std::string_view name) const;       // throws when absent

 private:
  GgufFile() = default;
  void parse_all(const uint8_t* base, size_t size);

  struct Storage;
  std::unique_ptr<Storage> storage_;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  std::vector<std::pair<std::string, Value>> kv_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// Writes GGUF v3 files: used by tests to build tiny models, and by later features that save
// artifacts. Tensor bytes are given already encoded in their ggml type.
class GgufWriter {
 public:
  void set(std::string key, Value v);
  void add_tensor(std::string name, std::vector<uint64_t> dims, GgmlType type,
                  std::vector<uint8_t> bytes);
  // Conveniences for tests and small artifacts: values in ggml order (dims[0] contiguous),
  // stored as F32, or rounded to F16 (round-to-nearest-even).
  void add_tensor_f32(std::string name, std::vector<uint64_t> dims,
                      const std::vector<float>& values);
  void add_tensor_f16(std::string name, std::vector<uint64_t> dims,
                      const std::vector<float>& values);
  // Power of two; also written as the u32 key general.alignment.
  void set_alignment(uint32_t a);
  std::vector<uint8_t> to_bytes() const;
  void write(const std::string& path) const;

 private:
  uint32_t alignment_ = 32;
  std::vector<std::pair<std::string, Value>> kv_;
  struct PendingTensor {
    std::string name;
    std::vector<uint64_t> dims;
    GgmlType type;
    std::vector<uint8_t> bytes;
  };
  std::vector<PendingTensor> tensors_;
};

}  // namespace ptune::gguf
