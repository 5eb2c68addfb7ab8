// Exceptions of the generic readers (CSV, JSONL lines, the strict JSON object reader). Each
// carries what a user needs to find the problem; layers above convert them to their own types at
// the boundary (tasks::DataError, tasks::TaskFileError) with the same what() text.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ptune::util {

// Malformed text at a line of a data file. what() reads "SOURCE:LINE: REASON" ("SOURCE: REASON"
// when line is 0).
class ParseError : public std::runtime_error {
 public:
  ParseError(std::string source, int64_t line, const std::string& reason);
  const std::string& source() const { return source_; }
  int64_t line() const { return line_; }  // 1-based; 0 when not tied to a line
  const std::string& reason() const { return reason_; }

 private:
  std::string source_;
  int64_t line_;
  std::string reason_;
};

// A bad key or value in a JSON document. what() reads "FILE: key 'a.b': REASON" ("FILE: REASON"
// for the document itself).
class JsonKeyError : public std::runtime_error {
 public:
  JsonKeyError(std::string file, std::string key, const std::string& reason);
  const std::string& file() const { return file_; }
  const std::string& key() const { return key_; }  // dotted path, e.g. "few_shot.k"
  const std::string& reason() const { return reason_; }

 private:
  std::string file_;
  std::string key_;
  std::string reason_;
};

// Text a message quotes, cut after `max_bytes` with "..." (a hostile file's name or value may be
// megabytes).
std::string clipped(std::string_view text, size_t max_bytes = 40);

}  // namespace ptune::util
