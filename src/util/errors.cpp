// Messages of the util exceptions; contract in include/ptune/util/errors.h.
#include "ptune/util/errors.h"

namespace ptune::util {
namespace {

std::string line_message(const std::string& source, int64_t line, const std::string& reason) {
  return source + (line > 0 ? ":" + std::to_string(line) : "") + ": " + reason;
}

}  // namespace

ParseError::ParseError(std::string source, int64_t line, const std::string& reason)
    : std::runtime_error(line_message(source, line, reason)),
      source_(std::move(source)),
      line_(line),
      reason_(reason) {}

JsonKeyError::JsonKeyError(std::string file, std::string key, const std::string& reason)
    : std::runtime_error(file + ": " + (key.empty() ? "" : "key '" + key + "': ") + reason),
      file_(std::move(file)),
      key_(std::move(key)),
      reason_(reason) {}

std::string clipped(std::string_view text, size_t max_bytes) {
  return text.size() <= max_bytes ? std::string(text)
                                  : std::string(text.substr(0, max_bytes)) + "...";
}

}  // namespace ptune::util
