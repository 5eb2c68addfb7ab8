// JSON Lines reader; contract in include/ptune/util/jsonl.h.
#include "ptune/util/jsonl.h"

#include <utility>

#include "ptune/util/files.h"
#include "ptune/util/json.h"
#include "ptune/util/utf8.h"

namespace ptune::util {

using nlohmann::json;

JsonlReader::JsonlReader(std::string_view text, std::string source)
    : text_(text), source_(std::move(source)) {}

bool JsonlReader::next(json& object, int64_t& line) {
  while (pos_ < text_.size()) {
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view text = text_.substr(pos_, end - pos_);
    pos_ = end + 1;  // past the line before parsing, so a bad line is already behind us
    ++line_;
    if (text.size() > kMaxLineBytes) {  // nlohmann's DOM of a huge line costs many times it
      throw ParseError(source_, line_,
                       "the line is " + std::to_string(text.size() >> 20) + " MiB, more than the " +
                           std::to_string(kMaxLineBytes >> 20) + " MiB a data row may have");
    }
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.find_first_not_of(" \t") == std::string_view::npos) continue;
    line = line_;
    object = parse_line(text, line_);
    return true;
  }
  return false;
}

json JsonlReader::parse_line(std::string_view text, int64_t line) const {
  const size_t bad = find_invalid_utf8(text);
  if (bad != std::string_view::npos) {
    throw ParseError(source_, line, "invalid UTF-8 at column " + std::to_string(bad + 1));
  }
  json value;
  try {
    value = parse_json_strict(text);
  } catch (const JsonSyntaxError& e) {
    throw ParseError(source_, line,
                     "invalid JSON at column " + std::to_string(e.column()) + ": " + e.reason());
  }
  if (!value.is_object()) {
    throw ParseError(source_, line,
                     std::string("expected a JSON object, got ") + value.type_name());
  }
  return value;
}

}  // namespace ptune::util
