// JSONL objects -> Examples: task fields found by key or dotted path. The line splitting and
// parsing is util::JsonlReader.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "ptune/util/jsonl.h"
#include "readers.h"

namespace ptune::tasks::detail {
namespace {

using nlohmann::json;

// Looks `path` up in `obj`: first as a literal key (keys may contain dots), then as a dotted path
// through objects and array indexes ("meta.answers.0"). Null when absent.
const json* find_path(const json& obj, const std::string& path) {
  if (auto it = obj.find(path); it != obj.end()) return &*it;
  const json* cur = &obj;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    if (dot == std::string::npos) dot = path.size();
    const std::string part = path.substr(start, dot - start);
    if (cur->is_object()) {
      auto it = cur->find(part);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (cur->is_array() && !part.empty() &&
               part.find_first_not_of("0123456789") == std::string::npos) {
      const size_t i = std::stoul(part);
      if (i >= cur->size()) return nullptr;
      cur = &(*cur)[i];
    } else {
      return nullptr;
    }
    start = dot + 1;
  }
  return cur;
}

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::null:
      return "null";
    default:
      return "a scalar";
  }
}

// Strings stay as they are; numbers and booleans use their JSON spelling (1, 0.5, true).
bool scalar_text(const json& v, std::string& out) {
  if (v.is_string()) {
    out = v.get<std::string>();
    return true;
  }
  if (v.is_number() || v.is_boolean()) {
    out = v.dump();
    return true;
  }
  return false;
}

void put_value(Example& ex, const std::string& field, const json& v, const std::string& source,
               int64_t line, bool identity) {
  std::string text;
  if (scalar_text(v, text)) {
    ex.fields[field] = std::move(text);
  } else if (v.is_array()) {
    auto& list = ex.lists[field];
    for (size_t i = 0; i < v.size(); ++i) {
      if (!scalar_text(v[i], text)) {
        throw DataError(source, line, field,
                        "array item " + std::to_string(i) + " is " + type_name(v[i]) +
                            ", expected a string or number");
      }
      list.push_back(std::move(text));
    }
  } else if (v.is_object() && identity) {
    ex.fields[field] = v.dump();  // unmapped metadata objects are kept as JSON text
  } else {
    throw DataError(source, line, field,
                    std::string("value is ") + type_name(v) + ", expected a string or number");
  }
}

Example object_to_example(const json& obj, const FieldMapping& mapping, const std::string& source,
                          int64_t line) {
  Example ex;
  ex.source = source;
  ex.line = line;
  if (mapping.empty()) {
    for (const auto& [key, value] : obj.items()) {
      if (value.is_null()) continue;  // identity mapping: null = field absent
      put_value(ex, key, value, source, line, true);
    }
    return ex;
  }
  for (const auto& [field, src] : mapping) {
    if (src.keys.size() == 1) {
      const json* v = find_path(obj, src.keys[0]);
      if (v == nullptr || v->is_null()) {
        if (src.optional) continue;
        throw DataError(source, line, field, "missing (looked for key '" + src.keys[0] + "')");
      }
      put_value(ex, field, *v, source, line, false);
      continue;
    }
    auto& list = ex.lists[field];
    for (const auto& key : src.keys) {
      const json* v = find_path(obj, key);
      std::string text;
      if (v == nullptr || v->is_null()) {
        if (src.optional) continue;
        throw DataError(source, line, field, "missing (looked for key '" + key + "')");
      }
      if (!scalar_text(*v, text)) {
        throw DataError(source, line, field,
                        "key '" + key + "' is " + type_name(*v) + ", expected a string or number");
      }
      list.push_back(std::move(text));
    }
  }
  return ex;
}

}  // namespace

void read_jsonl(std::string_view content, const std::string& source, const LoadOptions& options,
                std::vector<Example>& out, LoadReport& report) {
  util::JsonlReader reader(content, source);
  for (bool more = true; more;) {
    guard_row(options, report, [&] {
      json obj;
      int64_t line = 0;
      more = next_counted(report, [&] { return reader.next(obj, line); });
      if (!more) return;
      out.push_back(object_to_example(obj, options.mapping, source, line));
    });
  }
}

}  // namespace ptune::tasks::detail
