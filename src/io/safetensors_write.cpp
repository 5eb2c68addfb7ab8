// The safetensors writer: serializes like the reference (safetensors 0.4+) so files are
// byte-comparable with safetensors.torch.save_file, after checking every tensor's name and that
// its data matches its shape; write_file replaces the file atomically.
#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "atomic_file.h"
#include "ptune/io/safetensors.h"
#include "safetensors_detail.h"
#include "str_format.h"

namespace ptune::safetensors {

using detail::kMetadataKey;
using detail::mul_overflows;
using detail::printable;
using gguf::detail::str_format;

namespace {

// Throws unless `t` can be written: a new, non-empty name that is not "__metadata__", and data
// whose size matches the shape.
void check_writable(const Tensor& t, std::set<std::string_view>& names) {
  if (t.name.empty()) throw SafetensorsError("cannot write a tensor with an empty name");
  if (t.name == kMetadataKey) {
    throw SafetensorsError("cannot write a tensor named \"__metadata__\"");
  }
  if (!names.insert(t.name).second) {
    throw SafetensorsError(
        str_format("cannot write two tensors named '%s'", printable(t.name).c_str()));
  }
  uint64_t numel = 1;
  for (uint64_t d : t.shape) {
    if (mul_overflows(numel, d, &numel)) {
      throw SafetensorsError(
          str_format("tensor '%s': shape overflows 64 bits", printable(t.name).c_str()));
    }
  }
  uint64_t n_bytes = 0;
  if (mul_overflows(numel, dtype_size(t.dtype), &n_bytes) || n_bytes != t.data.size()) {
    throw SafetensorsError(str_format(
        "tensor '%s': %zu bytes of data but a %s tensor of %llu elements needs %llu",
        printable(t.name).c_str(), t.data.size(), dtype_name(t.dtype),
        static_cast<unsigned long long>(numel), static_cast<unsigned long long>(n_bytes)));
  }
}

// The header JSON for tensors in `order`, padded with spaces to a multiple of 8 bytes.
std::string header_text(const std::vector<const Tensor*>& order,
                        const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  uint64_t offset = 0;
  for (const Tensor* t : order) {
    nlohmann::ordered_json entry;
    entry["dtype"] = dtype_name(t->dtype);
    entry["shape"] = t->shape;
    entry["data_offsets"] = {offset, offset + t->data.size()};
    header[t->name] = std::move(entry);
    offset += t->data.size();
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {  // a name or value that is not UTF-8
    throw SafetensorsError(str_format("cannot write the header: %s", e.what()));
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

}  // namespace

std::vector<uint8_t> serialize(const std::vector<Tensor>& tensors,
                               const std::map<std::string, std::string>& metadata) {
  std::vector<const Tensor*> order;
  std::set<std::string_view> names;
  for (const Tensor& t : tensors) {
    check_writable(t, names);
    order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [](const Tensor* a, const Tensor* b) {
    const int ra = detail::dtype_rank(a->dtype), rb = detail::dtype_rank(b->dtype);
    return ra != rb ? ra > rb : a->name < b->name;
  });
  const std::string text = header_text(order, metadata);

  uint64_t data_bytes = 0;
  for (const Tensor* t : order) data_bytes += t->data.size();
  const uint64_t n = text.size();
  std::vector<uint8_t> out(8 + text.size() + data_bytes);
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  size_t at = 8 + text.size();
  for (const Tensor* t : order) {
    if (!t->data.empty()) std::memcpy(out.data() + at, t->data.data(), t->data.size());
    at += t->data.size();
  }
  return out;
}

void write_file(const std::string& path, const std::vector<Tensor>& tensors,
                const std::map<std::string, std::string>& metadata) {
  const std::vector<uint8_t> bytes = serialize(tensors, metadata);
  const std::string err = io::write_file_atomically(path, bytes.data(), bytes.size());
  if (!err.empty()) throw SafetensorsError(err);
}

}  // namespace ptune::safetensors
