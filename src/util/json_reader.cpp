// The strict JSON object reader; contract in include/ptune/util/json_reader.h.
#include "ptune/util/json_reader.h"

#include <algorithm>

namespace ptune::util {
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

const char* json_type(const ordered_json& v) {
  return v.type_name();
}

}  // namespace

std::string closest_name(const std::string& word, const std::set<std::string>& names) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& n : names) {
    const size_t d = edit_distance(word, n);
    if (d < best_d) {
      best_d = d;
      best = n;
    }
  }
  return best;
}

JsonReader::JsonReader(const ordered_json& value, std::string path, const std::string& file,
                       const std::set<std::string>& allowed)
    : obj_(value), path_(std::move(path)), file_(file) {
  if (!obj_.is_object()) {
    throw JsonKeyError(file_, path_, std::string("expected an object, got ") + json_type(obj_));
  }
  for (const auto& [key, v] : obj_.items()) {
    if (allowed.count(key)) continue;
    std::string known;
    for (const auto& a : allowed) known += (known.empty() ? "" : ", ") + a;
    const std::string hint = closest_name(key, allowed);
    throw JsonKeyError(file_, key_path(key),
                       "unknown key" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                           "; known keys here: " + known);
  }
}

const ordered_json* JsonReader::find(const std::string& key) const {
  auto it = obj_.find(key);
  return it == obj_.end() ? nullptr : &*it;
}

std::string JsonReader::key_path(const std::string& key) const {
  if (key.empty()) return path_;
  return path_.empty() ? key : path_ + "." + key;
}

void JsonReader::fail(const std::string& key, const std::string& reason) const {
  throw JsonKeyError(file_, key_path(key), reason);
}

std::string JsonReader::str(const std::string& key, const std::string& fallback) const {
  const auto* v = find(key);
  if (!v) return fallback;
  if (!v->is_string()) fail(key, std::string("expected a string, got ") + json_type(*v));
  return v->get<std::string>();
}

bool JsonReader::boolean(const std::string& key, bool fallback) const {
  const auto* v = find(key);
  if (!v) return fallback;
  if (!v->is_boolean()) fail(key, std::string("expected true or false, got ") + json_type(*v));
  return v->get<bool>();
}

int64_t JsonReader::integer(const std::string& key, int64_t fallback, int64_t min,
                            int64_t max) const {
  const auto* v = find(key);
  if (!v) return fallback;
  if (!v->is_number_integer()) fail(key, std::string("expected an integer, got ") + v->dump());
  const int64_t x = v->get<int64_t>();
  if (x < min || x > max) {
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                  std::to_string(x));
  }
  return x;
}

double JsonReader::number(const std::string& key, double fallback) const {
  const auto* v = find(key);
  if (!v) return fallback;
  if (!v->is_number()) fail(key, std::string("expected a number, got ") + json_type(*v));
  return v->get<double>();
}

std::vector<std::string> JsonReader::strings(const std::string& key,
                                             const std::vector<std::string>& fallback) const {
  const auto* v = find(key);
  if (!v) return fallback;
  if (v->is_string()) return {v->get<std::string>()};
  if (!v->is_array()) fail(key, std::string("expected a string or a list of strings"));
  std::vector<std::string> out;
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) {
      fail(key, "item " + std::to_string(i) + " is " + json_type((*v)[i]) + ", expected a string");
    }
    out.push_back((*v)[i].get<std::string>());
  }
  return out;
}

JsonReader JsonReader::object(const std::string& key, const std::set<std::string>& allowed) const {
  static const ordered_json empty = ordered_json::object();
  const auto* v = find(key);
  return JsonReader(v ? *v : empty, key_path(key), file_, allowed);
}

}  // namespace ptune::util
