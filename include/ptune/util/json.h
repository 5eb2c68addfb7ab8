// The one JSON parser for text ptune did not just write itself: task files, data rows, adapter
// configs, safetensors headers, prompt files, stored runs. nlohmann keeps the last of two equal
// keys silently, so a second "positive" under "labels" would replace a verbalizer without a word;
// here a key repeated within one object is an error, as is text that is not JSON or (when asked)
// nests too deep. Errors carry the position so callers can add the file name and point at it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ptune::util {

// Text that parse_json_strict refused. what() reads "line L, column C: REASON".
class JsonSyntaxError : public std::runtime_error {
 public:
  JsonSyntaxError(size_t byte, size_t line, size_t column, const std::string& reason,
                  std::string key = {}, std::string object_path = {});
  size_t byte() const { return byte_; }      // 0-based offset of the problem in the text
  size_t line() const { return line_; }      // 1-based
  size_t column() const { return column_; }  // 1-based, in bytes
  const std::string& reason() const { return reason_; }  // the problem, without its position
  // For a repeated key: the key, and the path of the object holding it ("labels",
  // "data[2].meta"; "" for the top level). Both empty for other errors.
  const std::string& key() const { return key_; }
  const std::string& object_path() const { return object_path_; }

 private:
  size_t byte_, line_, column_;
  std::string reason_, key_, object_path_;
};

inline constexpr int kNoJsonDepthLimit = std::numeric_limits<int>::max();

// Parses `text` as one JSON value. Throws JsonSyntaxError for invalid JSON, a key that appears
// twice in the same object (equal keys in different objects are fine), or more than `max_depth`
// nested objects and arrays (the top-level container is depth 1). Json is nlohmann::json or
// nlohmann::ordered_json.
template <class Json = nlohmann::json>
Json parse_json_strict(std::string_view text, int max_depth = kNoJsonDepthLimit);

extern template nlohmann::json parse_json_strict<nlohmann::json>(std::string_view, int);
extern template nlohmann::ordered_json parse_json_strict<nlohmann::ordered_json>(std::string_view,
                                                                                 int);

}  // namespace ptune::util
