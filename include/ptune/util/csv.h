// Delimited text (CSV, TSV, any one-byte delimiter) as RFC 4180 describes it: the first
// non-blank row is the header; a field may be quoted with '"', and a quoted field may hold the
// delimiter, line breaks and "" (one quote); rows end with CRLF, LF or CR; blank lines are
// skipped. An unquoted field keeps a stray '"' literally (as Python's csv module does).
//
// Knows nothing of what the columns mean: callers (tasks' example readers) map them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ptune/util/errors.h"

namespace ptune::util {

struct CsvRow {
  int64_t line = 0;  // 1-based line where the row starts (a quoted line break spans lines)
  std::vector<std::string> fields;
};

// Pull reader over text in memory (not copied: `text` must outlive the reader).
class CsvReader {
 public:
  // Reads the header. Throws ParseError when the header row itself is malformed.
  CsvReader(std::string_view text, std::string source, char delimiter = ',');

  // False for a text with no non-blank row (then there are no data rows either).
  bool has_header() const { return has_header_; }
  const CsvRow& header() const { return header_; }

  // The next data row; false at the end of the text. Throws ParseError naming the row's line
  // for an unclosed or misplaced quote and for a field count other than the header's. The reader
  // has then moved past the bad row, so a caller that skips bad rows just calls next() again.
  bool next(CsvRow& row);

 private:
  bool next_raw(CsvRow& row);
  void read_row(CsvRow& row);
  std::string read_field(int64_t row_line);
  std::string read_quoted(int64_t row_line);
  void skip_rest_of_line();
  // Throws ParseError when a field passes kMaxLineBytes (util/files.h).
  void check_field_size(size_t bytes, int64_t row_line) const;
  void consume_line_end();
  bool at_field_end() const;
  size_t column() const { return pos_ - line_start_ + 1; }

  std::string_view text_;
  std::string source_;
  char delim_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  int64_t line_ = 1;
  bool last_field_quoted_ = false;
  bool has_header_ = false;
  CsvRow header_;
};

struct CsvTable {
  CsvRow header;  // empty fields (line 0) for a text with no rows
  std::vector<CsvRow> rows;
};

// The whole text at once; throws ParseError at the first malformed row.
CsvTable parse_csv(std::string_view text, const std::string& source, char delimiter = ',');

}  // namespace ptune::util
