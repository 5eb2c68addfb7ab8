// RFC 4180 pull parser; contract in include/ptune/util/csv.h. The parser keeps the current line
// number across quoted line breaks so errors point at the row's first line.
#include "ptune/util/csv.h"

#include <utility>

#include "ptune/util/files.h"

namespace ptune::util {

CsvReader::CsvReader(std::string_view text, std::string source, char delimiter)
    : text_(text), source_(std::move(source)), delim_(delimiter) {
  has_header_ = next_raw(header_);
}

bool CsvReader::next(CsvRow& row) {
  if (!has_header_ || !next_raw(row)) return false;
  // Checked after the row is read whole, so the reader already stands at the next row.
  if (row.fields.size() != header_.fields.size()) {
    throw ParseError(source_, row.line,
                     "expected " + std::to_string(header_.fields.size()) +
                         " fields (as in the header), got " + std::to_string(row.fields.size()));
  }
  return true;
}

// Next non-blank row, of any width.
bool CsvReader::next_raw(CsvRow& row) {
  while (pos_ < text_.size()) {
    row.line = line_;
    row.fields.clear();
    try {
      read_row(row);
    } catch (const ParseError&) {
      skip_rest_of_line();  // resynchronise at the next line for callers that skip bad rows
      throw;
    }
    const bool blank = row.fields.size() == 1 && row.fields[0].empty() && !last_field_quoted_;
    if (!blank) return true;
  }
  return false;
}

void CsvReader::read_row(CsvRow& row) {
  for (;;) {
    row.fields.push_back(read_field(row.line));
    if (pos_ < text_.size() && text_[pos_] == delim_) {
      ++pos_;
      continue;
    }
    consume_line_end();
    return;
  }
}

bool CsvReader::at_field_end() const {
  return pos_ >= text_.size() || text_[pos_] == delim_ || text_[pos_] == '\n' ||
         text_[pos_] == '\r';
}

std::string CsvReader::read_field(int64_t row_line) {
  last_field_quoted_ = pos_ < text_.size() && text_[pos_] == '"';
  if (last_field_quoted_) return read_quoted(row_line);
  const size_t start = pos_;
  while (!at_field_end()) ++pos_;
  check_field_size(pos_ - start, row_line);
  return std::string(text_.substr(start, pos_ - start));
}

std::string CsvReader::read_quoted(int64_t row_line) {
  const int64_t open_line = line_;
  const size_t open_col = column();
  std::string field;
  ++pos_;
  for (;;) {
    if (pos_ >= text_.size()) {
      throw ParseError(source_, row_line,
                       "unclosed quote: the quoted field opened at line " +
                           std::to_string(open_line) + ", column " + std::to_string(open_col) +
                           " runs to the end of the file");
    }
    const char c = text_[pos_];
    if (c == '"') {
      if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
        field += '"';
        pos_ += 2;
        continue;
      }
      ++pos_;
      break;
    }
    if (c == '\n') {
      ++line_;
      line_start_ = pos_ + 1;
    }
    field += c;
    ++pos_;
    if (field.size() > kMaxLineBytes) check_field_size(field.size(), row_line);
  }
  if (!at_field_end()) {
    throw ParseError(source_, line_,
                     std::string("unexpected character '") + text_[pos_] +
                         "' after a closing quote at column " + std::to_string(column()) +
                         " (a quote inside a quoted field is written \"\")");
  }
  return field;
}

void CsvReader::check_field_size(size_t bytes, int64_t row_line) const {
  if (bytes <= kMaxLineBytes) return;
  throw ParseError(source_, row_line,
                   "a field of more than " + std::to_string(kMaxLineBytes >> 20) +
                       " MiB, the most a data field may have");
}

void CsvReader::skip_rest_of_line() {
  while (pos_ < text_.size() && text_[pos_] != '\n' && text_[pos_] != '\r') ++pos_;
  consume_line_end();
}

void CsvReader::consume_line_end() {
  if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
  if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
  ++line_;
  line_start_ = pos_;
}

CsvTable parse_csv(std::string_view text, const std::string& source, char delimiter) {
  CsvReader reader(text, source, delimiter);
  CsvTable table;
  table.header = reader.header();
  for (CsvRow row; reader.next(row);) table.rows.push_back(std::move(row));
  return table;
}

}  // namespace ptune::util
