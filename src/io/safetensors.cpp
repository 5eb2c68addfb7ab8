// safetensors reader and writer. The reader treats every byte as untrusted: the header length is
// checked against the file before anything is parsed, the JSON parser is bounded in depth and
// rejects duplicate keys (nlohmann would keep the last one silently), and every tensor's shape,
// dtype and offsets are checked against the buffer before its bytes are copied.
#include "ptune/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <utility>

#include "atomic_file.h"
#include "mapped_file.h"
#include "ptune/io/ggml_types.h"
#include "ptune/io/gguf.h"
#include "str_format.h"

namespace ptune::safetensors {

using gguf::detail::str_format;
using json = nlohmann::json;

namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference's MAX_HEADER_SIZE
constexpr int kMaxJsonDepth = 8;                   // a valid header nests 3 deep
constexpr size_t kMaxNameInMessage = 64;
constexpr char kMetadataKey[] = "__metadata__";

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

// Names in messages are cut short: a fuzzed name can be megabytes of garbage.
std::string printable(std::string_view s) {
  return s.size() <= kMaxNameInMessage ? std::string(s)
                                       : std::string(s.substr(0, kMaxNameInMessage)) + "...";
}

// *out = a * b; returns true when that overflows u64.
bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

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
    if (!j[i].is_number_unsigned()) {
      throw SafetensorsError(str_format("%s[%zu] must be a non-negative integer, got %s",
                                        what.c_str(), i, json_type(j[i])));
    }
    out.push_back(j[i].get<uint64_t>());
  }
  return out;
}

// Parses the header bytes into a DOM, rejecting duplicate keys at any level and nesting deeper
// than kMaxJsonDepth. `header_at` is the header's file offset, for the messages.
json parse_header(const char* begin, size_t size, size_t header_at) {
  if (size == 0 || begin[0] != '{') {
    throw SafetensorsError(str_format(
        "header at byte %zu does not start with '{' (not a safetensors file?)", header_at));
  }
  std::vector<std::set<std::string>> keys;  // one set per open object
  auto check = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxJsonDepth) {
      throw SafetensorsError(str_format("header JSON nests deeper than %d levels", kMaxJsonDepth));
    }
    switch (event) {
      case json::parse_event_t::object_start:
        keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case json::parse_event_t::key: {
        const auto& k = parsed.get_ref<const std::string&>();
        if (!keys.empty() && !keys.back().insert(k).second) {
          throw SafetensorsError(str_format("header JSON has the key '%s' twice%s",
                                            printable(k).c_str(),
                                            depth == 1 ? " (duplicate tensor name)" : ""));
        }
        break;
      }
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(begin, begin + size, check);
  } catch (const json::parse_error& e) {
    // e.byte counts from 1 within the header; e.what() repeats it as line/column.
    const size_t at = header_at + (e.byte > 0 ? e.byte - 1 : 0);
    throw SafetensorsError(str_format("header JSON is invalid at byte %zu: %s", at, e.what()));
  } catch (const json::exception& e) {
    throw SafetensorsError(str_format("header JSON is invalid: %s", e.what()));
  }
}

struct Entry {
  Tensor tensor;
  uint64_t begin = 0;
  uint64_t end = 0;
};

Entry read_entry(const std::string& name, const json& j, uint64_t buffer_size) {
  const std::string tn = "tensor '" + printable(name) + "'";
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
  Entry e;
  e.tensor.name = name;

  const json& dt = j["dtype"];
  if (!dt.is_string()) {
    throw SafetensorsError(
        str_format("%s: \"dtype\" must be a string, got %s", tn.c_str(), json_type(dt)));
  }
  const auto dtype = dtype_from_name(dt.get_ref<const std::string&>());
  if (!dtype) {
    throw SafetensorsError(str_format("%s: unsupported dtype \"%s\"", tn.c_str(),
                                      printable(dt.get_ref<const std::string&>()).c_str()));
  }
  e.tensor.dtype = *dtype;

  e.tensor.shape = read_u64_array(j["shape"], tn + ": \"shape\"");
  uint64_t numel = 1;
  for (uint64_t d : e.tensor.shape) {
    if (mul_overflows(numel, d, &numel)) {
      throw SafetensorsError(str_format("%s: shape's element count overflows 64 bits", tn.c_str()));
    }
  }
  uint64_t n_bytes = 0;
  if (mul_overflows(numel, dtype_size(*dtype), &n_bytes)) {
    throw SafetensorsError(str_format("%s: %llu %s elements overflow a 64-bit byte count",
                                      tn.c_str(), static_cast<unsigned long long>(numel),
                                      dtype_name(*dtype)));
  }

  const auto offsets = read_u64_array(j["data_offsets"], tn + ": \"data_offsets\"");
  if (offsets.size() != 2) {
    throw SafetensorsError(str_format("%s: \"data_offsets\" must hold 2 integers, has %zu",
                                      tn.c_str(), offsets.size()));
  }
  e.begin = offsets[0];
  e.end = offsets[1];
  if (e.end < e.begin) {
    throw SafetensorsError(str_format("%s: data_offsets [%llu, %llu] end before they begin",
                                      tn.c_str(), static_cast<unsigned long long>(e.begin),
                                      static_cast<unsigned long long>(e.end)));
  }
  if (e.end > buffer_size) {
    throw SafetensorsError(str_format(
        "%s: data_offsets [%llu, %llu] run past the end of the %llu-byte data buffer", tn.c_str(),
        static_cast<unsigned long long>(e.begin), static_cast<unsigned long long>(e.end),
        static_cast<unsigned long long>(buffer_size)));
  }
  if (e.end - e.begin != n_bytes) {
    throw SafetensorsError(str_format(
        "%s: data_offsets [%llu, %llu] hold %llu bytes but %s shape %s needs %llu", tn.c_str(),
        static_cast<unsigned long long>(e.begin), static_cast<unsigned long long>(e.end),
        static_cast<unsigned long long>(e.end - e.begin), dtype_name(*dtype),
        j["shape"].dump().c_str(), static_cast<unsigned long long>(n_bytes)));
  }
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

}  // namespace

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
  const size_t data_at = 8 + static_cast<size_t>(n);
  const uint64_t buffer_size = size - data_at;
  const json header =
      parse_header(reinterpret_cast<const char*>(bytes) + 8, static_cast<size_t>(n), 8);
  if (!header.is_object()) {
    throw SafetensorsError(str_format("header must be a JSON object, got %s", json_type(header)));
  }

  File file;
  std::vector<Entry> entries;
  entries.reserve(header.size());
  for (const auto& [key, value] : header.items()) {
    if (key == kMetadataKey) {
      file.metadata = read_metadata(value);
    } else {
      entries.push_back(read_entry(key, value, buffer_size));
    }
  }

  // The tensors must tile the buffer: sorted by offset, each begins where the last one ended.
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

  file.tensors.reserve(entries.size());
  for (Entry& e : entries) {
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

std::vector<uint8_t> serialize(const std::vector<Tensor>& tensors,
                               const std::map<std::string, std::string>& metadata) {
  std::vector<const Tensor*> order;
  std::set<std::string_view> names;
  for (const Tensor& t : tensors) {
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
    order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [](const Tensor* a, const Tensor* b) {
    const int ra = info(a->dtype).rank, rb = info(b->dtype).rank;
    return ra != rb ? ra > rb : a->name < b->name;
  });

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

  const uint64_t n = text.size();
  std::vector<uint8_t> out(8 + text.size() + offset);
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
