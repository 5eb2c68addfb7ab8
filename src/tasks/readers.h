// Format readers behind parse_examples(): util's CSV / JSONL parsers give rows, these map them to
// task fields. Each appends examples to `out` and handles skip_bad through guard_row, so the
// skip/count policy lives in one place.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ptune/tasks/dataset.h"
#include "ptune/tasks/errors.h"
#include "ptune/util/errors.h"

namespace ptune::tasks::detail {

// Runs one row's parsing: a DataError is rethrown, or with skip_bad counted in the report.
// Returns whether the row succeeded.
template <typename Fn>
bool guard_row(const LoadOptions& options, LoadReport& report, Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const DataError& e) {
    if (!options.skip_bad) throw;
    report.add_skip(e.what(), options.max_reasons);
    return false;
  }
}

// Calls `fn`, turning util's ParseError into the task layer's DataError (same message, no field).
template <typename Fn>
auto as_data_error(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const util::ParseError& e) {
    throw DataError(e.source(), e.line(), "", e.reason());
  }
}

// Reads the next row through `next` (a reader's next(): false at the end) and counts it in the
// report, a row that fails to parse included.
template <typename Next>
bool next_counted(LoadReport& report, Next&& next) {
  const bool more = as_data_error([&] {
    try {
      return next();
    } catch (const util::ParseError&) {
      ++report.rows;  // the reader is already past the bad row
      throw;
    }
  });
  if (more) ++report.rows;
  return more;
}

// Delimited text with `delimiter` (',' or '\t'), util::CsvReader's dialect; the first row is
// the header, each column maps to a task field.
void read_delimited(std::string_view content, const std::string& source, char delimiter,
                    const LoadOptions& options, std::vector<Example>& out, LoadReport& report);

// One JSON object per line (util::JsonlReader); blank lines are ignored.
void read_jsonl(std::string_view content, const std::string& source, const LoadOptions& options,
                std::vector<Example>& out, LoadReport& report);

}  // namespace ptune::tasks::detail
