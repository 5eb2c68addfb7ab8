// Exceptions thrown by the task layer. Each carries the context a user needs to fix the input:
// a data row (file, line, field), a task-file key, or a template position.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "ptune/util/errors.h"

namespace ptune::tasks {

// A bad row or value in a data file. what() reads "FILE:LINE: field 'F': REASON".
class DataError : public std::runtime_error {
 public:
  DataError(std::string file, int64_t line, std::string field, const std::string& reason);
  const std::string& file() const { return file_; }
  int64_t line() const { return line_; }               // 1-based; 0 when not tied to a line
  const std::string& field() const { return field_; }  // empty when not tied to a field
  const std::string& reason() const { return reason_; }

 private:
  std::string file_;
  int64_t line_;
  std::string field_;
  std::string reason_;
};

// A bad task file. what() reads "FILE: key 'a.b': REASON". A util::JsonKeyError (what the
// strict JSON reader throws) with the task layer's name: parse_task converts the reader's errors,
// so callers catch this one type for every task-file problem.
class TaskFileError : public util::JsonKeyError {
 public:
  TaskFileError(std::string file, std::string key, const std::string& reason)
      : util::JsonKeyError(std::move(file), std::move(key), reason) {}
};

// A bad template. what() names the template, the offset, line:column, and shows the template
// line with a caret under the offending character.
class TemplateError : public std::runtime_error {
 public:
  TemplateError(const std::string& name, const std::string& source, size_t offset,
                const std::string& reason);
  size_t offset() const { return offset_; }  // byte offset into the template text

 private:
  size_t offset_;
};

}  // namespace ptune::tasks
