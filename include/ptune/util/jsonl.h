// JSON Lines: one JSON object per line. Lines end with LF (a CR before it is dropped); lines of
// only spaces and tabs are skipped. Knows nothing of what the keys mean: callers (tasks' example
// readers) map them.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ptune/util/errors.h"

namespace ptune::util {

// Pull reader over text in memory (not copied: `text` must outlive the reader).
class JsonlReader {
 public:
  JsonlReader(std::string_view text, std::string source);

  // Parses the next non-blank line into `object` and sets `line` (1-based); false at the end.
  // Throws ParseError naming the line for invalid UTF-8, invalid JSON (with the column; a key
  // twice in one object is invalid, see json.h) or a value that is not an object. The reader has
  // then moved past the line, so a caller that skips bad rows just calls next() again.
  bool next(nlohmann::json& object, int64_t& line);

 private:
  nlohmann::json parse_line(std::string_view text, int64_t line) const;

  std::string_view text_;
  std::string source_;
  size_t pos_ = 0;
  int64_t line_ = 0;
};

}  // namespace ptune::util
