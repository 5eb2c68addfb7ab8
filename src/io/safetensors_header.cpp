// The safetensors header: untrusted JSON turned into checked tensor entries. The JSON parser is
// bounded in depth and rejects duplicate keys (util/json.h; nlohmann keeps the last one); each
// entry's dtype, shape and offsets are checked against the data buffer, and the entries must
// tile that buffer exactly (no overlap, no gap), before any tensor byte is copied.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>
#include <tuple>
#include <utility>

#include "ptune/util/json.h"
#include "safetensors_detail.h"
#include "str_format.h"

namespace ptune::safetensors::detail {

using gguf::detail::str_format;
using json = nlohmann::json;

namespace {

constexpr int kMaxJsonDepth = 8;  // a valid header nests 3 deep

const char* json_type(const json& j) {
  return j.is_number_float() ? "float" : j.is_number_integer() ? "integer" : j.type_name();
}

// Reads a JSON array of non-negative integers; `what` names it for the message.
std::vector<uint64_t> read_u64_array(const json& j, const std::string& what) {
  if (!j.is_array()) {
    throw SafetensorsError(
        str_format("%s must be an array of integers, got %s", what.c_str(), json_type(j)));
  }
  std::vector<uint64_t> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    if (j[i].is_number_integer() && !j[i].is_number_unsigned()) {
      throw SafetensorsError(str_format("%s[%zu] must be a non-negative integer, got %lld",
                                        what.c_str(), i, j[i].get<long long>()));
    }
    if (!j[i].is_number_unsigned()) {
      throw SafetensorsError(str_format("%s[%zu] must be a non-negative integer, got %s",
                                        what.c_str(), i, json_type(j[i])));
    }
    out.push_back(j[i].get<uint64_t>());
  }
  return out;
}

// Parses the header bytes into a DOM with util::parse_json_strict: no key twice in an object
// (at the top level that is a tensor name), no nesting deeper than kMaxJsonDepth. `header_at` is
// the header's file offset, for the messages.
json parse_json(const char* begin, size_t size, size_t header_at) {
  if (size == 0 || begin[0] != '{') {
    throw SafetensorsError(str_format(
        "header at byte %zu does not start with '{' (not a safetensors file?)", header_at));
  }
  try {
    return util::parse_json_strict(std::string_view(begin, size), kMaxJsonDepth);
  } catch (const util::JsonSyntaxError& e) {
    const size_t at = header_at + e.byte();
    if (e.key().empty()) {
      throw SafetensorsError(
          str_format("header JSON is invalid at byte %zu: %s", at, e.reason().c_str()));
    }
    const std::string where = e.object_path().empty() ? " (duplicate tensor name)"
                                                      : " in '" + printable(e.object_path()) + "'";
    throw SafetensorsError(str_format("header JSON has the key '%s' twice%s at byte %zu",
                                      printable(e.key()).c_str(), where.c_str(), at));
  }
}

// `tn` is "tensor 'NAME'", the prefix of every message about the entry.
void check_entry_object(const std::string& name, const json& j, const std::string& tn) {
  if (name.empty()) throw SafetensorsError("header has a tensor with an empty name");
  if (!j.is_object()) {
    throw SafetensorsError(
        str_format("%s: entry must be an object, got %s", tn.c_str(), json_type(j)));
  }
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!j.contains(key)) {
      throw SafetensorsError(str_format("%s: entry has no \"%s\"", tn.c_str(), key));
    }
  }
}

Dtype read_dtype(const json& dt, const std::string& tn) {
  if (!dt.is_string()) {
    throw SafetensorsError(
        str_format("%s: \"dtype\" must be a string, got %s", tn.c_str(), json_type(dt)));
  }
  const auto dtype = dtype_from_name(dt.get_ref<const std::string&>());
  if (!dtype) {
    throw SafetensorsError(str_format("%s: unsupported dtype \"%s\"", tn.c_str(),
                                      printable(dt.get_ref<const std::string&>()).c_str()));
  }
  return *dtype;
}

// The byte count of a `dtype` tensor of `shape`, or SafetensorsError when it overflows.
uint64_t byte_count(const std::vector<uint64_t>& shape, Dtype dtype, const std::string& tn) {
  uint64_t numel = 1;
  for (uint64_t d : shape) {
    if (mul_overflows(numel, d, &numel)) {
      throw SafetensorsError(str_format("%s: shape's element count overflows 64 bits", tn.c_str()));
    }
  }
  uint64_t n_bytes = 0;
  if (mul_overflows(numel, dtype_size(dtype), &n_bytes)) {
    throw SafetensorsError(str_format("%s: %llu %s elements overflow a 64-bit byte count",
                                      tn.c_str(), static_cast<unsigned long long>(numel),
                                      dtype_name(dtype)));
  }
  return n_bytes;
}

// Reads e.begin and e.end from "data_offsets", checking them against the buffer and against the
// `n_bytes` the shape needs (`shape` is the JSON shape, quoted in the message).
void read_offsets(const json& j, const json& shape, uint64_t n_bytes, uint64_t buffer_size,
                  const std::string& tn, Entry& e) {
  const auto offsets = read_u64_array(j, tn + ": \"data_offsets\"");
  if (offsets.size() != 2) {
    throw SafetensorsError(str_format("%s: \"data_offsets\" must hold 2 integers, has %zu",
                                      tn.c_str(), offsets.size()));
  }
  e.begin = offsets[0];
  e.end = offsets[1];
  const auto begin = static_cast<unsigned long long>(e.begin);
  const auto end = static_cast<unsigned long long>(e.end);
  if (e.end < e.begin) {
    throw SafetensorsError(
        str_format("%s: data_offsets [%llu, %llu] end before they begin", tn.c_str(), begin, end));
  }
  if (e.end > buffer_size) {
    throw SafetensorsError(
        str_format("%s: data_offsets [%llu, %llu] run past the end of the %llu-byte data buffer",
                   tn.c_str(), begin, end, static_cast<unsigned long long>(buffer_size)));
  }
  if (e.end - e.begin != n_bytes) {
    throw SafetensorsError(str_format(
        "%s: data_offsets [%llu, %llu] hold %llu bytes but %s shape %s needs %llu", tn.c_str(),
        begin, end, static_cast<unsigned long long>(e.end - e.begin), dtype_name(e.tensor.dtype),
        shape.dump().c_str(), static_cast<unsigned long long>(n_bytes)));
  }
}

Entry read_entry(const std::string& name, const json& j, uint64_t buffer_size) {
  const std::string tn = "tensor '" + printable(name) + "'";
  check_entry_object(name, j, tn);
  Entry e;
  e.tensor.name = name;
  e.tensor.dtype = read_dtype(j["dtype"], tn);
  e.tensor.shape = read_u64_array(j["shape"], tn + ": \"shape\"");
  const uint64_t n_bytes = byte_count(e.tensor.shape, e.tensor.dtype, tn);
  read_offsets(j["data_offsets"], j["shape"], n_bytes, buffer_size, tn, e);
  return e;
}

std::map<std::string, std::string> read_metadata(const json& j) {
  if (!j.is_object()) {
    throw SafetensorsError(
        str_format("\"__metadata__\" must be an object of strings, got %s", json_type(j)));
  }
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : j.items()) {
    if (!v.is_string()) {
      throw SafetensorsError(str_format("\"__metadata__\" value of '%s' must be a string, got %s",
                                        printable(k).c_str(), json_type(v)));
    }
    out.emplace(k, v.get<std::string>());
  }
  return out;
}

// The tensors must tile the buffer: sorted by offset, each begins where the last one ended.
void sort_and_check_tiling(std::vector<Entry>& entries, uint64_t buffer_size, size_t data_at) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  uint64_t expected = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < expected) {
      throw SafetensorsError(
          str_format("tensor '%s': data_offsets [%llu, %llu] overlap tensor '%s' [%llu, %llu]",
                     printable(e.tensor.name).c_str(), static_cast<unsigned long long>(e.begin),
                     static_cast<unsigned long long>(e.end), printable(prev->tensor.name).c_str(),
                     static_cast<unsigned long long>(prev->begin),
                     static_cast<unsigned long long>(prev->end)));
    }
    if (e.begin > expected) {
      throw SafetensorsError(str_format(
          "tensor '%s': data_offsets [%llu, %llu] leave a gap: the previous tensor ends at %llu",
          printable(e.tensor.name).c_str(), static_cast<unsigned long long>(e.begin),
          static_cast<unsigned long long>(e.end), static_cast<unsigned long long>(expected)));
    }
    expected = e.end;
    prev = &e;
  }
  if (expected != buffer_size) {
    throw SafetensorsError(str_format(
        "the tensors cover %llu bytes of the %llu-byte data buffer at byte %zu (%llu bytes "
        "unaccounted for)",
        static_cast<unsigned long long>(expected), static_cast<unsigned long long>(buffer_size),
        data_at, static_cast<unsigned long long>(buffer_size - expected)));
  }
}

}  // namespace

Header read_header(const char* begin, size_t size, size_t header_at, uint64_t buffer_size,
                   size_t data_at) {
  const json header = parse_json(begin, size, header_at);
  if (!header.is_object()) {
    throw SafetensorsError(str_format("header must be a JSON object, got %s", json_type(header)));
  }
  Header out;
  out.entries.reserve(header.size());
  for (const auto& [key, value] : header.items()) {
    if (key == kMetadataKey) {
      out.metadata = read_metadata(value);
    } else {
      out.entries.push_back(read_entry(key, value, buffer_size));
    }
  }
  sort_and_check_tiling(out.entries, buffer_size, data_at);
  return out;
}

}  // namespace ptune::safetensors::detail
