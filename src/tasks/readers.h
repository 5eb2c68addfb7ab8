// Format readers behind parse_examples(). Each appends examples to `out` and handles skip_bad
// through RowGuard, so the skip/count policy lives in one place.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ptune/tasks/dataset.h"
#include "ptune/tasks/errors.h"

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

// RFC 4180 with `delimiter` (',' or '\t'): quoted fields may hold delimiters, newlines and ""
// escapes; CRLF, LF and CR line ends; the first row is the header.
void read_delimited(std::string_view content, const std::string& source, char delimiter,
                    const LoadOptions& options, std::vector<Example>& out, LoadReport& report);

// One JSON object per line; blank lines are ignored.
void read_jsonl(std::string_view content, const std::string& source, const LoadOptions& options,
                std::vector<Example>& out, LoadReport& report);

}  // namespace ptune::tasks::detail
