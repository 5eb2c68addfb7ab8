// Metadata values: construction with range checks, and typed accessors that say what they got.
#include <limits>

#include "ptune/io/gguf.h"
#include "str_format.h"

namespace ptune::gguf {

using detail::str_format;

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::U8:
      return "u8";
    case ValueType::I8:
      return "i8";
    case ValueType::U16:
      return "u16";
    case ValueType::I16:
      return "i16";
    case ValueType::U32:
      return "u32";
    case ValueType::I32:
      return "i32";
    case ValueType::F32:
      return "f32";
    case ValueType::BOOL:
      return "bool";
    case ValueType::STRING:
      return "string";
    case ValueType::ARRAY:
      return "array";
    case ValueType::U64:
      return "u64";
    case ValueType::I64:
      return "i64";
    case ValueType::F64:
      return "f64";
  }
  return "unknown";
}

namespace {

bool is_unsigned_type(ValueType t) {
  return t == ValueType::U8 || t == ValueType::U16 || t == ValueType::U32 || t == ValueType::U64;
}

bool is_signed_type(ValueType t) {
  return t == ValueType::I8 || t == ValueType::I16 || t == ValueType::I32 || t == ValueType::I64;
}

// Inclusive range of an integer type, as int128-free pairs: [min_i, max_u].
int64_t type_min(ValueType t) {
  switch (t) {
    case ValueType::I8:
      return std::numeric_limits<int8_t>::min();
    case ValueType::I16:
      return std::numeric_limits<int16_t>::min();
    case ValueType::I32:
      return std::numeric_limits<int32_t>::min();
    case ValueType::I64:
      return std::numeric_limits<int64_t>::min();
    default:
      return 0;
  }
}

uint64_t type_max(ValueType t) {
  switch (t) {
    case ValueType::U8:
      return std::numeric_limits<uint8_t>::max();
    case ValueType::I8:
      return std::numeric_limits<int8_t>::max();
    case ValueType::U16:
      return std::numeric_limits<uint16_t>::max();
    case ValueType::I16:
      return std::numeric_limits<int16_t>::max();
    case ValueType::U32:
      return std::numeric_limits<uint32_t>::max();
    case ValueType::I32:
      return std::numeric_limits<int32_t>::max();
    case ValueType::U64:
      return std::numeric_limits<uint64_t>::max();
    case ValueType::I64:
      return std::numeric_limits<int64_t>::max();
    default:
      return 0;
  }
}

[[noreturn]] void mismatch(const char* wanted, ValueType got) {
  throw GgufError(str_format("expected %s value, got %s", wanted, value_type_name(got)));
}

}  // namespace

// make_uint/make_int accept any integer type as long as the value fits it, so callers can
// write make_uint(ValueType::I32, 5) without caring about signedness.
Value Value::make_uint(ValueType t, uint64_t v) {
  if (!is_unsigned_type(t) && !is_signed_type(t)) mismatch("an integer type for make_uint", t);
  if (v > type_max(t)) {
    throw GgufError(str_format("value %llu does not fit %s", static_cast<unsigned long long>(v),
                               value_type_name(t)));
  }
  Value out;
  out.type_ = t;
  if (is_unsigned_type(t)) {
    out.u_ = v;
  } else {
    out.i_ = static_cast<int64_t>(v);
  }
  return out;
}

Value Value::make_int(ValueType t, int64_t v) {
  if (!is_unsigned_type(t) && !is_signed_type(t)) mismatch("an integer type for make_int", t);
  if (v < type_min(t) || (v > 0 && static_cast<uint64_t>(v) > type_max(t))) {
    throw GgufError(
        str_format("value %lld does not fit %s", static_cast<long long>(v), value_type_name(t)));
  }
  if (is_unsigned_type(t)) return make_uint(t, static_cast<uint64_t>(v));
  Value out;
  out.type_ = t;
  out.i_ = v;
  return out;
}

Value Value::make_float(ValueType t, double v) {
  if (t != ValueType::F32 && t != ValueType::F64) mismatch("f32 or f64 for make_float", t);
  Value out;
  out.type_ = t;
  // Keep exactly what will be stored, so a written-then-read value compares equal.
  out.f_ = t == ValueType::F32 ? static_cast<double>(static_cast<float>(v)) : v;
  return out;
}

Value Value::make_bool(bool v) {
  Value out;
  out.type_ = ValueType::BOOL;
  out.u_ = v ? 1 : 0;
  return out;
}

Value Value::make_string(std::string v) {
  Value out;
  out.type_ = ValueType::STRING;
  out.s_ = std::move(v);
  return out;
}

Value Value::make_array(ValueType elem_type, std::vector<Value> elems) {
  for (size_t i = 0; i < elems.size(); ++i) {
    if (elems[i].type() != elem_type) {
      throw GgufError(str_format("array of %s has a %s element at index %zu",
                                 value_type_name(elem_type), value_type_name(elems[i].type()), i));
    }
  }
  Value out;
  out.type_ = ValueType::ARRAY;
  out.elem_type_ = elem_type;
  out.arr_ = std::make_shared<std::vector<Value>>(std::move(elems));
  return out;
}

bool Value::is_integer() const {
  return is_unsigned_type(type_) || is_signed_type(type_);
}

bool Value::is_float() const {
  return type_ == ValueType::F32 || type_ == ValueType::F64;
}

int64_t Value::as_int() const {
  if (is_signed_type(type_)) return i_;
  if (!is_unsigned_type(type_)) mismatch("an integer", type_);
  if (u_ > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    throw GgufError(
        str_format("u64 value %llu does not fit int64", static_cast<unsigned long long>(u_)));
  }
  return static_cast<int64_t>(u_);
}

uint64_t Value::as_uint() const {
  if (is_unsigned_type(type_)) return u_;
  if (!is_signed_type(type_)) mismatch("an integer", type_);
  if (i_ < 0) {
    throw GgufError(str_format("negative value %lld where an unsigned one is needed",
                               static_cast<long long>(i_)));
  }
  return static_cast<uint64_t>(i_);
}

double Value::as_float() const {
  if (is_float()) return f_;
  if (is_unsigned_type(type_)) return static_cast<double>(u_);
  if (is_signed_type(type_)) return static_cast<double>(i_);
  mismatch("a number", type_);
}

bool Value::as_bool() const {
  if (type_ != ValueType::BOOL) mismatch("a bool", type_);
  return u_ != 0;
}

const std::string& Value::as_string() const {
  if (type_ != ValueType::STRING) mismatch("a string", type_);
  return s_;
}

ValueType Value::array_type() const {
  if (type_ != ValueType::ARRAY) mismatch("an array", type_);
  return elem_type_;
}

const std::vector<Value>& Value::as_array() const {
  if (type_ != ValueType::ARRAY) mismatch("an array", type_);
  return *arr_;
}

}  // namespace ptune::gguf
