// GGUF reader. Every field comes from untrusted bytes: counts are checked against the bytes
// left before anything is allocated, and each error names the field, key or tensor and the
// byte offset where it went wrong.
#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "byte_reader.h"
#include "mapped_file.h"
#include "ptune/io/gguf.h"
#include "ptune/util/errors.h"
#include "str_format.h"

namespace ptune::gguf {

using detail::ByteReader;
using detail::str_format;

namespace {

constexpr uint32_t kMaxArrayDepth = 8;  // arrays of arrays; real files use at most 1
constexpr size_t kMaxTensorName = 64;   // GGML_MAX_NAME
constexpr uint32_t kMaxDims = 4;        // GGML_MAX_DIMS
// Array elements across all metadata. Each parsed value costs ~80 bytes of memory however small
// it is on disk, so this caps what a hostile file can make us allocate (~1.3 GB); real
// vocabularies hold well under a million entries.
constexpr uint64_t kMaxMetadataValues = uint64_t{1} << 24;
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;                  // empty key, type, one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, one dim

bool valid_value_type(uint32_t t) {
  return t <= static_cast<uint32_t>(ValueType::F64);
}

// Fewest bytes one value of type t can occupy; bounds an array's count by the bytes left.
uint64_t min_value_bytes(ValueType t) {
  switch (t) {
    case ValueType::U8:
    case ValueType::I8:
    case ValueType::BOOL:
      return 1;
    case ValueType::U16:
    case ValueType::I16:
      return 2;
    case ValueType::U32:
    case ValueType::I32:
    case ValueType::F32:
      return 4;
    case ValueType::U64:
    case ValueType::I64:
    case ValueType::F64:
    case ValueType::STRING:
      return 8;
    case ValueType::ARRAY:
      return 12;
  }
  return 1;
}

Value read_value(ByteReader& r, ValueType t, uint32_t depth, uint64_t* budget) {
  switch (t) {
    case ValueType::U8:
      return Value::make_uint(t, r.read<uint8_t>("u8 value"));
    case ValueType::I8:
      return Value::make_int(t, r.read<int8_t>("i8 value"));
    case ValueType::U16:
      return Value::make_uint(t, r.read<uint16_t>("u16 value"));
    case ValueType::I16:
      return Value::make_int(t, r.read<int16_t>("i16 value"));
    case ValueType::U32:
      return Value::make_uint(t, r.read<uint32_t>("u32 value"));
    case ValueType::I32:
      return Value::make_int(t, r.read<int32_t>("i32 value"));
    case ValueType::U64:
      return Value::make_uint(t, r.read<uint64_t>("u64 value"));
    case ValueType::I64:
      return Value::make_int(t, r.read<int64_t>("i64 value"));
    case ValueType::F32:
      return Value::make_float(t, r.read<float>("f32 value"));
    case ValueType::F64:
      return Value::make_float(t, r.read<double>("f64 value"));
    case ValueType::BOOL:
      return Value::make_bool(r.read<uint8_t>("bool value") != 0);
    case ValueType::STRING:
      return Value::make_string(r.read_string("string value"));
    case ValueType::ARRAY:
      break;
  }
  const size_t at = r.pos();
  if (depth >= kMaxArrayDepth) {
    throw GgufError(
        str_format("arrays nested deeper than %u levels at byte %zu", kMaxArrayDepth, at));
  }
  const uint32_t raw = r.read<uint32_t>("array element type");
  if (!valid_value_type(raw)) {
    throw GgufError(str_format("unknown array element type %u at byte %zu", raw, at));
  }
  const auto elem = static_cast<ValueType>(raw);
  const uint64_t count = r.read<uint64_t>("array count");
  if (count > r.remaining() / min_value_bytes(elem)) {
    throw GgufError(
        str_format("array at byte %zu claims %llu %s elements but only %zu bytes are left", at,
                   static_cast<unsigned long long>(count), value_type_name(elem), r.remaining()));
  }
  if (count > *budget) {
    throw GgufError(str_format("array at byte %zu: metadata holds more than %llu array elements",
                               at, static_cast<unsigned long long>(kMaxMetadataValues)));
  }
  *budget -= count;
  std::vector<Value> elems;
  elems.reserve(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) elems.push_back(read_value(r, elem, depth + 1, budget));
  return Value::make_array(elem, std::move(elems));
}

// Tensor names in messages are cut short: a fuzzed name can be megabytes of garbage.
std::string printable(const std::string& s) {
  return util::clipped(s, kMaxTensorName);
}

using Index = std::map<std::string, size_t, std::less<>>;

struct Counts {
  uint64_t n_tensors = 0;
  uint64_t n_kv = 0;
};

// Magic, version and the two counts, each count bounded by the bytes left.
Counts read_header(ByteReader& r, const uint8_t* base, uint32_t* version) {
  r.need(4, "magic");
  if (std::memcmp(base, "GGUF", 4) != 0) {
    throw GgufError(str_format("not a GGUF file: bad magic %02x %02x %02x %02x at byte 0", base[0],
                               base[1], base[2], base[3]));
  }
  r.read<uint32_t>("magic");
  *version = r.read<uint32_t>("version");
  if (*version == 1) {
    throw GgufError("GGUF version 1 is not supported (it uses 32-bit counts); reconvert the model");
  }
  if (*version == 0x02000000u || *version == 0x03000000u) {
    throw GgufError("big-endian GGUF files are not supported");
  }
  if (*version != 2 && *version != 3) {
    throw GgufError(
        str_format("unsupported GGUF version %u at byte 4 (expected 2 or 3)", *version));
  }
  Counts c;
  c.n_tensors = r.read<uint64_t>("tensor_count");
  c.n_kv = r.read<uint64_t>("metadata_kv_count");
  if (c.n_kv > r.remaining() / kMinKvBytes) {
    throw GgufError(
        str_format("metadata_kv_count %llu at byte 16 is impossible in the %zu bytes left",
                   static_cast<unsigned long long>(c.n_kv), r.remaining()));
  }
  if (c.n_tensors > r.remaining() / kMinTensorInfoBytes) {
    throw GgufError(str_format("tensor_count %llu at byte 8 is impossible in the %zu bytes left",
                               static_cast<unsigned long long>(c.n_tensors), r.remaining()));
  }
  return c;
}

// n_kv key/value pairs into kv (file order) and index (key -> position); keys must be unique.
void read_metadata(ByteReader& r, uint64_t n_kv, std::vector<std::pair<std::string, Value>>& kv,
                   Index& index) {
  kv.reserve(static_cast<size_t>(n_kv));
  uint64_t budget = kMaxMetadataValues;
  for (uint64_t i = 0; i < n_kv; ++i) {
    const size_t at = r.pos();
    std::string key = r.read_string("metadata key");
    try {
      const size_t type_at = r.pos();
      const uint32_t raw = r.read<uint32_t>("value type");
      if (!valid_value_type(raw)) {
        throw GgufError(str_format("unknown value type %u at byte %zu", raw, type_at));
      }
      Value v = read_value(r, static_cast<ValueType>(raw), 0, &budget);
      if (index.count(key)) throw GgufError(str_format("duplicate key at byte %zu", at));
      index.emplace(key, kv.size());
      kv.emplace_back(std::move(key), std::move(v));
    } catch (const GgufError& e) {
      throw GgufError(str_format("metadata key '%s': %s", printable(key).c_str(), e.what()));
    }
  }
}

// general.alignment: a u32 nonzero power of two.
uint32_t read_alignment(const Value& a) {
  if (a.type() != ValueType::U32) {
    throw GgufError(str_format("general.alignment must be u32, got %s", value_type_name(a.type())));
  }
  const uint64_t v = a.as_uint();
  if (v == 0 || (v & (v - 1)) != 0) {
    throw GgufError(str_format("general.alignment %llu is not a nonzero power of two",
                               static_cast<unsigned long long>(v)));
  }
  return static_cast<uint32_t>(v);
}

// n_dims and the dimensions of tensor `nm` (its info at byte `at`) into t.dims and t.n_elements.
void read_dims(ByteReader& r, const char* nm, size_t at, TensorInfo& t) {
  const uint32_t n_dims = r.read<uint32_t>("n_dims");
  if (n_dims == 0 || n_dims > kMaxDims) {
    throw GgufError(str_format("tensor '%s' at byte %zu: n_dims %u is outside 1..%u", nm, at,
                               n_dims, kMaxDims));
  }
  t.n_elements = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    const uint64_t dim = r.read<uint64_t>("tensor dimension");
    if (dim == 0) {
      throw GgufError(str_format("tensor '%s' at byte %zu: dimension %u is zero", nm, at, d));
    }
    if (dim > static_cast<uint64_t>(INT64_MAX) / t.n_elements) {
      throw GgufError(str_format("tensor '%s' at byte %zu: element count overflows", nm, at));
    }
    t.n_elements *= dim;
    t.dims.push_back(dim);
  }
}

// The ggml type of tensor `nm` (its info at byte `at`) into t.type and t.n_bytes.
void read_type(ByteReader& r, const char* nm, size_t at, TensorInfo& t) {
  const uint32_t type_id = r.read<uint32_t>("tensor type");
  const TypeTraits* tr = type_traits(type_id);
  if (!tr) {
    throw GgufError(str_format("tensor '%s' at byte %zu: unknown ggml type %u", nm, at, type_id));
  }
  t.type = static_cast<GgmlType>(type_id);
  if (t.dims[0] % tr->block_elems != 0) {
    throw GgufError(
        str_format("tensor '%s': dims[0] = %llu is not a multiple of the %s block size %u", nm,
                   static_cast<unsigned long long>(t.dims[0]), tr->name, tr->block_elems));
  }
  try {
    t.n_bytes = row_bytes(t.type, t.n_elements);
  } catch (const GgufError& e) {
    throw GgufError(str_format("tensor '%s': %s", nm, e.what()));
  }
}

// One tensor info: name, dims, type and offset (a multiple of `alignment`).
TensorInfo read_tensor_info(ByteReader& r, uint32_t alignment, size_t at) {
  TensorInfo t;
  t.name = r.read_string("tensor name");
  const std::string shown = printable(t.name);
  const char* nm = shown.c_str();
  if (t.name.size() > kMaxTensorName) {
    throw GgufError(
        str_format("tensor '%s' at byte %zu: name longer than %zu bytes", nm, at, kMaxTensorName));
  }
  read_dims(r, nm, at, t);
  read_type(r, nm, at, t);
  t.offset = r.read<uint64_t>("tensor offset");
  if (t.offset % alignment != 0) {
    throw GgufError(str_format("tensor '%s': offset %llu is not a multiple of the alignment %u", nm,
                               static_cast<unsigned long long>(t.offset), alignment));
  }
  return t;
}

// n_tensors tensor infos into tensors (file order) and index (name -> position); names must be
// unique.
void read_tensor_infos(ByteReader& r, uint64_t n_tensors, uint32_t alignment,
                       std::vector<TensorInfo>& tensors, Index& index) {
  if (n_tensors > r.remaining() / kMinTensorInfoBytes) {
    throw GgufError(str_format("tensor_count %llu is impossible in the %zu bytes left at byte %zu",
                               static_cast<unsigned long long>(n_tensors), r.remaining(), r.pos()));
  }
  tensors.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    const size_t at = r.pos();
    TensorInfo t = read_tensor_info(r, alignment, at);
    if (index.count(t.name)) {
      throw GgufError(
          str_format("duplicate tensor name '%s' at byte %zu", printable(t.name).c_str(), at));
    }
    index.emplace(t.name, tensors.size());
    tensors.push_back(std::move(t));
  }
}

// Tensor data: the section starts at the next multiple of the alignment after the infos (which
// end at byte `infos_end`); every tensor must lie inside the file.
void place_tensor_data(const uint8_t* base, size_t size, size_t infos_end, uint32_t alignment,
                       std::vector<TensorInfo>& tensors) {
  const uint64_t data_start = (infos_end + alignment - 1) / alignment * alignment;
  for (TensorInfo& t : tensors) {
    if (data_start > size || t.offset > size - data_start ||
        t.n_bytes > size - data_start - t.offset) {
      throw GgufError(str_format(
          "tensor '%s': data at offset %llu (%llu bytes) runs past the end of the file (data "
          "section at byte %llu, file %zu bytes)",
          printable(t.name).c_str(), static_cast<unsigned long long>(t.offset),
          static_cast<unsigned long long>(t.n_bytes), static_cast<unsigned long long>(data_start),
          size));
    }
    t.data = base + data_start + t.offset;
  }
}

// Overlapping tensors mean a corrupt table: writing one would silently change another.
void check_no_overlap(const std::vector<TensorInfo>& tensors) {
  std::vector<const TensorInfo*> by_offset;
  by_offset.reserve(tensors.size());
  for (const TensorInfo& t : tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorInfo& prev = *by_offset[i - 1];
    if (by_offset[i]->offset < prev.offset + prev.n_bytes) {
      throw GgufError(str_format("tensors '%s' and '%s' overlap in the data section",
                                 printable(prev.name).c_str(),
                                 printable(by_offset[i]->name).c_str()));
    }
  }
}

}  // namespace

struct GgufFile::Storage {
  std::unique_ptr<detail::MappedFile> map;
  std::vector<uint8_t> bytes;
};

GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

GgufFile GgufFile::open(const std::string& path) {
  GgufFile f;
  f.storage_ = std::make_unique<Storage>();
  f.storage_->map = std::make_unique<detail::MappedFile>(path);
  try {
    f.parse_all(f.storage_->map->data(), f.storage_->map->size());
  } catch (const GgufError& e) {
    throw GgufError(path + ": " + e.what());
  }
  return f;
}

GgufFile GgufFile::parse(const uint8_t* bytes, size_t size) {
  GgufFile f;
  f.storage_ = std::make_unique<Storage>();
  f.storage_->bytes.assign(bytes, bytes + size);
  f.parse_all(f.storage_->bytes.data(), size);
  return f;
}

void GgufFile::parse_all(const uint8_t* base, size_t size) {
  ByteReader r(base, size);
  const Counts counts = read_header(r, base, &version_);
  read_metadata(r, counts.n_kv, kv_, kv_index_);
  if (const Value* a = find("general.alignment")) alignment_ = read_alignment(*a);
  read_tensor_infos(r, counts.n_tensors, alignment_, tensors_, tensor_index_);
  place_tensor_data(base, size, r.pos(), alignment_, tensors_);
  check_no_overlap(tensors_);
}

}  // namespace ptune::gguf
