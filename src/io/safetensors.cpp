// safetensors tensors and the reader. The reader treats every byte as untrusted: the header
// length is checked against the file before anything is parsed, then the header is parsed and
// every tensor's shape, dtype and offsets checked against the buffer (safetensors_header.cpp)
// before its bytes are copied. The writer is in safetensors_write.cpp.
#include "ptune/io/safetensors.h"

#include <cstring>
#include <utility>

#include "mapped_file.h"
#include "ptune/io/ggml_types.h"
#include "ptune/io/gguf.h"
#include "ptune/util/errors.h"
#include "safetensors_detail.h"
#include "str_format.h"

namespace ptune::safetensors {

using detail::printable;
using gguf::detail::str_format;

namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference's MAX_HEADER_SIZE
constexpr size_t kMaxNameInMessage = 64;

struct DtypeInfo {
  Dtype dtype;
  const char* name;
  size_t size;
  int rank;  // the reference's enum order: the writer puts higher ranks first
};

constexpr DtypeInfo kDtypes[] = {
    {Dtype::BOOL, "BOOL", 1, 0}, {Dtype::U8, "U8", 1, 4},    {Dtype::I8, "I8", 1, 5},
    {Dtype::I16, "I16", 2, 9},   {Dtype::F16, "F16", 2, 11}, {Dtype::BF16, "BF16", 2, 12},
    {Dtype::I32, "I32", 4, 13},  {Dtype::F32, "F32", 4, 15}, {Dtype::F64, "F64", 8, 17},
    {Dtype::I64, "I64", 8, 18},
};

const DtypeInfo& info(Dtype t) {
  for (const auto& d : kDtypes) {
    if (d.dtype == t) return d;
  }
  throw SafetensorsError(str_format("invalid dtype enum %d", static_cast<int>(t)));
}

// The u64 header length at byte 0, checked against the limit and the bytes that follow.
uint64_t read_header_length(const uint8_t* bytes, size_t size) {
  if (size < 8) {
    throw SafetensorsError(str_format(
        "truncated file: the header length needs 8 bytes at byte 0, only %zu left", size));
  }
  uint64_t n = 0;
  std::memcpy(&n, bytes, 8);
  if (n > kMaxHeaderBytes) {
    throw SafetensorsError(str_format("header length %llu at byte 0 exceeds the %llu-byte limit",
                                      static_cast<unsigned long long>(n),
                                      static_cast<unsigned long long>(kMaxHeaderBytes)));
  }
  if (n > size - 8) {
    throw SafetensorsError(
        str_format("truncated file: header length %llu at byte 0 but only %zu bytes follow",
                   static_cast<unsigned long long>(n), size - 8));
  }
  return n;
}

}  // namespace

namespace detail {

int dtype_rank(Dtype t) {
  return info(t).rank;
}

std::string printable(std::string_view s) {
  return util::clipped(s, kMaxNameInMessage);
}

}  // namespace detail

const char* dtype_name(Dtype t) {
  return info(t).name;
}

std::optional<Dtype> dtype_from_name(std::string_view s) {
  for (const auto& d : kDtypes) {
    if (s == d.name) return d.dtype;
  }
  return std::nullopt;
}

size_t dtype_size(Dtype t) {
  return info(t).size;
}

uint64_t Tensor::numel() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

std::vector<float> Tensor::to_float() const {
  const uint64_t n = numel();
  if (data.size() != n * dtype_size(dtype)) {
    throw SafetensorsError(str_format("tensor '%s': %zu bytes for %llu %s elements",
                                      printable(name).c_str(), data.size(),
                                      static_cast<unsigned long long>(n), dtype_name(dtype)));
  }
  std::vector<float> out(static_cast<size_t>(n));
  const uint8_t* p = data.data();
  for (size_t i = 0; i < out.size(); ++i) {
    switch (dtype) {
      case Dtype::F32:
        std::memcpy(&out[i], p + 4 * i, 4);
        break;
      case Dtype::F64: {
        double v;
        std::memcpy(&v, p + 8 * i, 8);
        out[i] = static_cast<float>(v);
        break;
      }
      case Dtype::F16:
      case Dtype::BF16: {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = dtype == Dtype::F16 ? gguf::fp16_to_fp32(h) : gguf::bf16_to_fp32(h);
        break;
      }
      default:
        throw SafetensorsError(str_format("tensor '%s': %s is not a floating-point dtype",
                                          printable(name).c_str(), dtype_name(dtype)));
    }
  }
  return out;
}

Tensor make_f32(std::string name, std::vector<uint64_t> shape, const std::vector<float>& values) {
  Tensor t;
  t.name = std::move(name);
  t.dtype = Dtype::F32;
  t.shape = std::move(shape);
  if (t.numel() != values.size()) {
    throw SafetensorsError(str_format("tensor '%s': %zu values for a shape of %llu elements",
                                      printable(t.name).c_str(), values.size(),
                                      static_cast<unsigned long long>(t.numel())));
  }
  t.data.resize(values.size() * 4);
  if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

const Tensor* File::find(std::string_view name) const {
  for (const auto& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const Tensor& File::get(std::string_view name) const {
  if (const Tensor* t = find(name)) return *t;
  throw SafetensorsError(str_format("no tensor named '%s'", printable(name).c_str()));
}

File parse(const uint8_t* bytes, size_t size) {
  const uint64_t n = read_header_length(bytes, size);
  const size_t data_at = 8 + static_cast<size_t>(n);
  const uint64_t buffer_size = size - data_at;
  detail::Header header = detail::read_header(reinterpret_cast<const char*>(bytes) + 8,
                                              static_cast<size_t>(n), 8, buffer_size, data_at);
  File file;
  file.metadata = std::move(header.metadata);
  file.tensors.reserve(header.entries.size());
  for (detail::Entry& e : header.entries) {
    const uint8_t* p = bytes + data_at + e.begin;
    e.tensor.data.assign(p, p + (e.end - e.begin));
    file.tensors.push_back(std::move(e.tensor));
  }
  return file;
}

File read_file(const std::string& path) {
  try {
    const gguf::detail::MappedFile mapped(path);
    return parse(mapped.data(), mapped.size());
  } catch (const SafetensorsError& e) {
    throw SafetensorsError(path + ": " + e.what());
  } catch (const gguf::GgufError& e) {  // from MappedFile; it names the path already
    throw SafetensorsError(e.what());
  }
}

}  // namespace ptune::safetensors
