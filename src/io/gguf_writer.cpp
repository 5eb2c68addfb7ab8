// GGUF v3 writer: metadata in insertion order, tensor data padded to the alignment, laid out
// as gguf-py's GGUFWriter does so the files are byte-comparable with it.
#include <cstring>

#include "ptune/io/gguf.h"

#include "atomic_file.h"
#include "str_format.h"

namespace ptune::gguf {

using detail::str_format;

namespace {

constexpr char kAlignmentKey[] = "general.alignment";

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.insert(out.end(), b, b + sizeof(T));
}

void put_string(std::vector<uint8_t>& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

void put_value(std::vector<uint8_t>& out, const Value& v) {
  switch (v.type()) {
    case ValueType::U8:
      return put<uint8_t>(out, static_cast<uint8_t>(v.as_uint()));
    case ValueType::I8:
      return put<int8_t>(out, static_cast<int8_t>(v.as_int()));
    case ValueType::U16:
      return put<uint16_t>(out, static_cast<uint16_t>(v.as_uint()));
    case ValueType::I16:
      return put<int16_t>(out, static_cast<int16_t>(v.as_int()));
    case ValueType::U32:
      return put<uint32_t>(out, static_cast<uint32_t>(v.as_uint()));
    case ValueType::I32:
      return put<int32_t>(out, static_cast<int32_t>(v.as_int()));
    case ValueType::U64:
      return put<uint64_t>(out, v.as_uint());
    case ValueType::I64:
      return put<int64_t>(out, v.as_int());
    case ValueType::F32:
      return put<float>(out, static_cast<float>(v.as_float()));
    case ValueType::F64:
      return put<double>(out, v.as_float());
    case ValueType::BOOL:
      return put<uint8_t>(out, v.as_bool() ? 1 : 0);
    case ValueType::STRING:
      return put_string(out, v.as_string());
    case ValueType::ARRAY:
      put<uint32_t>(out, static_cast<uint32_t>(v.array_type()));
      put<uint64_t>(out, v.as_array().size());
      for (const Value& e : v.as_array()) put_value(out, e);
      return;
  }
}

uint64_t pad_to(uint64_t n, uint32_t align) {
  return (n + align - 1) / align * align;
}

void check_alignment(uint64_t a) {
  if (a == 0 || a > UINT32_MAX || (a & (a - 1)) != 0) {
    throw GgufError(str_format("alignment %llu is not a nonzero power of two",
                               static_cast<unsigned long long>(a)));
  }
}

}  // namespace

void GgufWriter::set(std::string key, Value v) {
  if (key == kAlignmentKey) {
    if (v.type() != ValueType::U32) throw GgufError("general.alignment must be u32");
    check_alignment(v.as_uint());
    alignment_ = static_cast<uint32_t>(v.as_uint());
  }
  for (auto& kv : kv_) {
    if (kv.first == key) {  // replace in place: keeps the file order stable
      kv.second = std::move(v);
      return;
    }
  }
  kv_.emplace_back(std::move(key), std::move(v));
}

void GgufWriter::set_alignment(uint32_t a) {
  set(kAlignmentKey, Value::make_uint(ValueType::U32, a));
}

void GgufWriter::add_tensor(std::string name, std::vector<uint64_t> dims, GgmlType type,
                            std::vector<uint8_t> bytes) {
  if (name.size() > 64) throw GgufError("tensor name longer than 64 bytes: " + name);
  if (dims.empty() || dims.size() > 4) {
    throw GgufError(str_format("tensor '%s': %zu dims, expected 1..4", name.c_str(), dims.size()));
  }
  for (const PendingTensor& t : tensors_) {
    if (t.name == name) throw GgufError("duplicate tensor name '" + name + "'");
  }
  const TypeTraits* tr = type_traits(static_cast<uint32_t>(type));
  if (!tr) throw GgufError(str_format("tensor '%s': unknown type", name.c_str()));
  uint64_t n = 1;
  for (uint64_t d : dims) {
    if (d == 0) throw GgufError(str_format("tensor '%s': zero dimension", name.c_str()));
    if (d > static_cast<uint64_t>(INT64_MAX) / n) {
      throw GgufError(str_format("tensor '%s': element count overflows", name.c_str()));
    }
    n *= d;
  }
  if (dims[0] % tr->block_elems != 0) {
    throw GgufError(str_format("tensor '%s': dims[0] not a multiple of the %s block size",
                               name.c_str(), tr->name));
  }
  const uint64_t want = row_bytes(type, n);
  if (bytes.size() != want) {
    throw GgufError(str_format("tensor '%s': %zu bytes given, %s with %llu elements needs %llu",
                               name.c_str(), bytes.size(), tr->name,
                               static_cast<unsigned long long>(n),
                               static_cast<unsigned long long>(want)));
  }
  tensors_.push_back({std::move(name), std::move(dims), type, std::move(bytes)});
}

void GgufWriter::add_tensor_f32(std::string name, std::vector<uint64_t> dims,
                                const std::vector<float>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(float));
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  add_tensor(std::move(name), std::move(dims), GgmlType::F32, std::move(bytes));
}

void GgufWriter::add_tensor_f16(std::string name, std::vector<uint64_t> dims,
                                const std::vector<float>& values) {
  std::vector<uint8_t> bytes;
  bytes.reserve(values.size() * 2);
  for (float v : values) put<uint16_t>(bytes, fp32_to_fp16(v));
  add_tensor(std::move(name), std::move(dims), GgmlType::F16, std::move(bytes));
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
  std::vector<uint8_t> out = {'G', 'G', 'U', 'F'};
  put<uint32_t>(out, 3);
  put<uint64_t>(out, tensors_.size());
  put<uint64_t>(out, kv_.size());
  for (const auto& [key, value] : kv_) {
    put_string(out, key);
    put<uint32_t>(out, static_cast<uint32_t>(value.type()));
    put_value(out, value);
  }
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    put_string(out, t.name);
    put<uint32_t>(out, static_cast<uint32_t>(t.dims.size()));
    for (uint64_t d : t.dims) put<uint64_t>(out, d);
    put<uint32_t>(out, static_cast<uint32_t>(t.type));
    put<uint64_t>(out, offset);
    offset += pad_to(t.bytes.size(), alignment_);
  }
  if (!tensors_.empty()) {
    out.resize(pad_to(out.size(), alignment_), 0);
    for (const PendingTensor& t : tensors_) {
      out.insert(out.end(), t.bytes.begin(), t.bytes.end());
      out.resize(pad_to(out.size(), alignment_), 0);
    }
  }
  return out;
}

void GgufWriter::write(const std::string& path) const {
  const std::vector<uint8_t> bytes = to_bytes();
  const std::string err = io::write_file_atomically(path, bytes.data(), bytes.size());
  if (!err.empty()) throw GgufError(err);
}

}  // namespace ptune::gguf
