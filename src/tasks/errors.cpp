// Messages of the task layer's exceptions; contract in include/ptune/tasks/errors.h.
#include "ptune/tasks/errors.h"

#include <algorithm>

namespace ptune::tasks {
namespace {

std::string data_message(const std::string& file, int64_t line, const std::string& field,
                         const std::string& reason) {
  std::string msg = file;
  if (line > 0) msg += ":" + std::to_string(line);
  msg += ": ";
  if (!field.empty()) msg += "field '" + field + "': ";
  return msg + reason;
}

// "template 'default' at offset 9 (line 1, column 10): unknown field 'txt'\n  Review: {txt}\n
// ^" -- the caret excerpt shows only the offending line so multi-line templates stay readable.
std::string template_message(const std::string& name, const std::string& source, size_t offset,
                             const std::string& reason) {
  offset = std::min(offset, source.size());
  size_t line_start = offset == 0 ? std::string::npos : source.rfind('\n', offset - 1);
  line_start = line_start == std::string::npos ? 0 : line_start + 1;
  size_t line_end = source.find('\n', offset);
  if (line_end == std::string::npos) line_end = source.size();
  size_t line_no = 1 + std::count(source.begin(), source.begin() + line_start, '\n');
  size_t column = offset - line_start + 1;
  std::string msg = "template '" + name + "' at offset " + std::to_string(offset) + " (line " +
                    std::to_string(line_no) + ", column " + std::to_string(column) + "): " + reason;
  msg += "\n  " + source.substr(line_start, line_end - line_start);
  msg += "\n  " + std::string(offset - line_start, ' ') + "^";
  return msg;
}

}  // namespace

DataError::DataError(std::string file, int64_t line, std::string field, const std::string& reason)
    : std::runtime_error(data_message(file, line, field, reason)),
      file_(std::move(file)),
      line_(line),
      field_(std::move(field)),
      reason_(reason) {}

TemplateError::TemplateError(const std::string& name, const std::string& source, size_t offset,
                             const std::string& reason)
    : std::runtime_error(template_message(name, source, offset, reason)), offset_(offset) {}

}  // namespace ptune::tasks
