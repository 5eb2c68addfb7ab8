// Metadata and tensor lookups: typed getters that name the key in every error.
#include "ptune/io/gguf.h"
#include "str_format.h"

namespace ptune::gguf {

using detail::str_format;

const Value* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

namespace {

const Value& require(const GgufFile& f, std::string_view key) {
  const Value* v = f.find(key);
  if (!v)
    throw GgufError(
        str_format("missing metadata key '%.*s'", static_cast<int>(key.size()), key.data()));
  return *v;
}

// Runs an accessor, adding the key to any type/range error.
template <typename Fn>
auto with_key(std::string_view key, Fn fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const GgufError& e) {
    throw GgufError(
        str_format("metadata key '%.*s': %s", static_cast<int>(key.size()), key.data(), e.what()));
  }
}

const std::vector<Value>& array_of(const Value& v, bool (*ok)(ValueType), const char* wanted) {
  const std::vector<Value>& a = v.as_array();
  if (!ok(v.array_type())) {
    throw GgufError(str_format("expected an array of %s, got an array of %s", wanted,
                               value_type_name(v.array_type())));
  }
  return a;
}

bool is_int_type(ValueType t) {
  switch (t) {
    case ValueType::U8:
    case ValueType::I8:
    case ValueType::U16:
    case ValueType::I16:
    case ValueType::U32:
    case ValueType::I32:
    case ValueType::U64:
    case ValueType::I64:
      return true;
    default:
      return false;
  }
}
bool is_number_type(ValueType t) {
  return is_int_type(t) || t == ValueType::F32 || t == ValueType::F64;
}
bool is_string_type(ValueType t) {
  return t == ValueType::STRING;
}

}  // namespace

int64_t GgufFile::get_int(std::string_view key) const {
  const Value& v = require(*this, key);
  return with_key(key, [&] { return v.as_int(); });
}

int64_t GgufFile::get_int(std::string_view key, int64_t def) const {
  const Value* v = find(key);
  return v ? with_key(key, [&] { return v->as_int(); }) : def;
}

double GgufFile::get_float(std::string_view key) const {
  const Value& v = require(*this, key);
  return with_key(key, [&] { return v.as_float(); });
}

double GgufFile::get_float(std::string_view key, double def) const {
  const Value* v = find(key);
  return v ? with_key(key, [&] { return v->as_float(); }) : def;
}

bool GgufFile::get_bool(std::string_view key, bool def) const {
  const Value* v = find(key);
  return v ? with_key(key, [&] { return v->as_bool(); }) : def;
}

std::string GgufFile::get_string(std::string_view key) const {
  const Value& v = require(*this, key);
  return with_key(key, [&] { return v.as_string(); });
}

std::string GgufFile::get_string(std::string_view key, const std::string& def) const {
  const Value* v = find(key);
  return v ? with_key(key, [&] { return v->as_string(); }) : def;
}

std::vector<std::string> GgufFile::get_string_array(std::string_view key) const {
  const Value& v = require(*this, key);
  return with_key(key, [&] {
    std::vector<std::string> out;
    for (const Value& e : array_of(v, is_string_type, "string")) {
      out.push_back(e.as_string());
    }
    return out;
  });
}

std::vector<int64_t> GgufFile::get_int_array(std::string_view key) const {
  const Value& v = require(*this, key);
  return with_key(key, [&] {
    std::vector<int64_t> out;
    for (const Value& e : array_of(v, is_int_type, "integers")) {
      out.push_back(e.as_int());
    }
    return out;
  });
}

std::vector<double> GgufFile::get_float_array(std::string_view key) const {
  const Value& v = require(*this, key);
  return with_key(key, [&] {
    std::vector<double> out;
    for (const Value& e : array_of(v, is_number_type, "numbers")) {
      out.push_back(e.as_float());
    }
    return out;
  });
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& GgufFile::tensor(std::string_view name) const {
  const TensorInfo* t = find_tensor(name);
  if (!t) {
    throw GgufError(
        str_format("missing tensor '%.*s'", static_cast<int>(name.size()), name.data()));
  }
  return *t;
}

}  // namespace ptune::gguf
