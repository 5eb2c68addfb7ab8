// Typed, strict access to one JSON object of a hand-written file (task files, configs). Every
// object declares the keys it knows; any other key is an error naming its dotted path (with a
// "did you mean" hint), so a typo such as "few_shots" is never silently ignored.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ptune/util/errors.h"

namespace ptune::util {

using ordered_json = nlohmann::ordered_json;

class JsonReader {
 public:
  // Throws JsonKeyError when `value` is not an object or has a key outside `allowed`.
  // `path` is the object's dotted path ("" for the root); `file` names the file in errors and
  // must outlive the reader.
  JsonReader(const ordered_json& value, std::string path, const std::string& file,
             const std::set<std::string>& allowed);

  bool has(const std::string& key) const { return obj_.contains(key); }
  const ordered_json* find(const std::string& key) const;
  std::string key_path(const std::string& key) const;

  std::string str(const std::string& key, const std::string& fallback = "") const;
  bool boolean(const std::string& key, bool fallback) const;
  int64_t integer(const std::string& key, int64_t fallback, int64_t min, int64_t max) const;
  double number(const std::string& key, double fallback) const;
  // A string or an array of strings.
  std::vector<std::string> strings(const std::string& key,
                                   const std::vector<std::string>& fallback) const;
  // The sub-object at `key` (an empty one when absent), with its own allowed keys.
  JsonReader object(const std::string& key, const std::set<std::string>& allowed) const;

  // Throws JsonKeyError for `key` of this object ("" = the object itself).
  [[noreturn]] void fail(const std::string& key, const std::string& reason) const;

 private:
  const ordered_json& obj_;
  std::string path_;
  const std::string& file_;
};

// The known name closest to `word` by edit distance, or "" when none is close.
std::string closest_name(const std::string& word, const std::set<std::string>& names);

}  // namespace ptune::util
