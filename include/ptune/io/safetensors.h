// safetensors reader and writer (the tensor file of a PEFT adapter, adapter_model.safetensors).
//
// Format (little-endian):
//   u64 N | N bytes of UTF-8 JSON header | byte buffer
//   header: {"__metadata__": {str: str, ...},            (optional)
//            "<name>": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...}
//   A tensor's bytes are buffer[begin, end), row-major (shape[-1] contiguous, PyTorch order),
//   end - begin == numel * dtype size; shape [] is a scalar (numel 1). The reference writer pads
//   the header with spaces so the buffer starts 8-byte aligned.
//
// Every check on untrusted bytes lives in the reader, with the reference implementation's rules:
// header size within the file (and at most 100 MB), a JSON object without duplicate keys, known
// dtypes, shapes whose element and byte counts do not overflow, offsets inside the buffer, and
// tensors that tile the buffer exactly (no overlap, no gap). A malformed file raises
// SafetensorsError naming the problem, the tensor and the byte offset; nothing is read out of
// bounds.
//
// No libtorch here: a tensor is {name, dtype, shape, raw bytes}. Adapter files are small, so the
// reader copies each tensor's bytes out of the mapped file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ptune::safetensors {

class SafetensorsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The dtypes we read and write (the reference also has F8/F4/complex kinds: rejected by name).
enum class Dtype { BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, F64 };
const char* dtype_name(Dtype t);                           // "F32"
std::optional<Dtype> dtype_from_name(std::string_view s);  // nullopt when unknown
size_t dtype_size(Dtype t);                                // bytes per element

struct Tensor {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<uint64_t> shape;  // PyTorch order: shape.back() is contiguous
  std::vector<uint8_t> data;    // numel() * dtype_size(dtype) little-endian bytes

  uint64_t numel() const;  // product of shape (1 for a scalar)
  // Values as float32: F32 as is, F16/BF16 widened, F64 narrowed. Throws SafetensorsError for
  // an integer or bool dtype.
  std::vector<float> to_float() const;
};

// Builds an F32 tensor; throws SafetensorsError when values.size() != product of shape.
Tensor make_f32(std::string name, std::vector<uint64_t> shape, const std::vector<float>& values);

struct File {
  std::map<std::string, std::string> metadata;  // "__metadata__"
  std::vector<Tensor> tensors;                  // in buffer order

  const Tensor* find(std::string_view name) const;  // nullptr when absent
  const Tensor& get(std::string_view name) const;   // throws SafetensorsError when absent
};

// Reads a file (memory-mapped). Errors are prefixed with the path.
File read_file(const std::string& path);
// Parses bytes in memory (tests, fuzzing).
File parse(const uint8_t* bytes, size_t size);

// Serializes like the reference writer (safetensors 0.4+), so files are byte-comparable with
// safetensors.torch.save_file: tensors ordered by dtype (widest first) then name, compact JSON
// header with "__metadata__" first, padded with spaces to a multiple of 8 bytes. Throws
// SafetensorsError on an empty or duplicate name, a "__metadata__" tensor, or data whose size
// does not match the shape.
std::vector<uint8_t> serialize(const std::vector<Tensor>& tensors,
                               const std::map<std::string, std::string>& metadata = {
                                   {"format", "pt"}});
// serialize() written to path + ".tmp" then renamed over path, so a reader never sees half a file.
void write_file(const std::string& path, const std::vector<Tensor>& tensors,
                const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace ptune::safetensors
