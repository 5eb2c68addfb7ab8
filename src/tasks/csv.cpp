// CSV / TSV reader (RFC 4180).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "readers.h"
#include "utf8.h"

namespace ptune::tasks::detail {
namespace {

struct Row {
  int64_t line = 0;  // line where the row starts
  std::vector<std::string> cells;
};

// Pull parser over the whole buffer. Keeps the current line number across quoted newlines so
// errors and examples point at the row's first line.
class DelimitedParser {
 public:
  DelimitedParser(std::string_view text, const std::string& source, char delimiter)
      : text_(text), source_(source), delim_(delimiter) {}

  // Next non-blank row; false at end of input. Throws DataError on a malformed row; the caller
  // may then call skip_rest_of_line() and continue.
  bool next(Row& row) {
    while (pos_ < text_.size()) {
      row.line = line_;
      row.cells.clear();
      read_row(row);
      if (row.cells.size() == 1 && row.cells[0].empty() && !last_cell_quoted_) continue;  // blank
      return true;
    }
    return false;
  }

  void skip_rest_of_line() {
    while (pos_ < text_.size() && text_[pos_] != '\n' && text_[pos_] != '\r') ++pos_;
    consume_line_end();
  }

  bool at_end() const { return pos_ >= text_.size(); }

 private:
  void read_row(Row& row) {
    for (;;) {
      row.cells.push_back(read_cell(row.line));
      if (pos_ < text_.size() && text_[pos_] == delim_) {
        ++pos_;
        continue;
      }
      consume_line_end();
      return;
    }
  }

  std::string read_cell(int64_t row_line) {
    std::string cell;
    last_cell_quoted_ = pos_ < text_.size() && text_[pos_] == '"';
    if (!last_cell_quoted_) {
      // Unquoted: a stray '"' inside is kept literally (as Python's csv module does).
      while (pos_ < text_.size() && text_[pos_] != delim_ && text_[pos_] != '\n' &&
             text_[pos_] != '\r') {
        cell += text_[pos_++];
      }
      return cell;
    }
    const int64_t open_line = line_;
    const size_t open_col = column();
    ++pos_;
    for (;;) {
      if (pos_ >= text_.size()) {
        throw DataError(source_, row_line, "",
                        "unclosed quote: the quoted field opened at line " +
                            std::to_string(open_line) + ", column " + std::to_string(open_col) +
                            " runs to the end of the file");
      }
      const char c = text_[pos_];
      if (c == '"') {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
          cell += '"';
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
      cell += c;
      ++pos_;
    }
    if (pos_ < text_.size() && text_[pos_] != delim_ && text_[pos_] != '\n' &&
        text_[pos_] != '\r') {
      throw DataError(source_, line_, "",
                      std::string("unexpected character '") + text_[pos_] +
                          "' after a closing quote at column " + std::to_string(column()) +
                          " (a quote inside a quoted field is written \"\")");
    }
    return cell;
  }

  void consume_line_end() {
    if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
    ++line_;
    line_start_ = pos_;
  }

  size_t column() const { return pos_ - line_start_ + 1; }

  std::string_view text_;
  const std::string& source_;
  char delim_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  int64_t line_ = 1;
  bool last_cell_quoted_ = false;
};

// Resolved mapping: task field -> column indexes.
struct ColumnPlan {
  std::string field;
  std::vector<size_t> columns;
  bool list = false;
};

std::vector<ColumnPlan> plan_columns(const std::vector<std::string>& header,
                                     const FieldMapping& mapping, const std::string& source) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < header.size(); ++i) {
    if (!index.emplace(header[i], i).second) {
      throw DataError(source, 1, header[i], "duplicate column name in the header");
    }
  }
  std::vector<ColumnPlan> plan;
  if (mapping.empty()) {
    for (size_t i = 0; i < header.size(); ++i) plan.push_back({header[i], {i}, false});
    return plan;
  }
  for (const auto& [field, src] : mapping) {
    ColumnPlan p{field, {}, src.keys.size() > 1};
    for (const auto& key : src.keys) {
      auto it = index.find(key);
      if (it != index.end()) {
        p.columns.push_back(it->second);
      } else if (!src.optional) {
        std::string cols;
        for (const auto& h : header) cols += (cols.empty() ? "" : ", ") + h;
        throw DataError(source, 1, field,
                        "column '" + key + "' is not in the header (columns: " + cols + ")");
      }
    }
    if (!p.columns.empty()) plan.push_back(std::move(p));
  }
  return plan;
}

Example row_to_example(const Row& row, const std::vector<std::string>& header,
                       const std::vector<ColumnPlan>& plan, const std::string& source) {
  if (row.cells.size() != header.size()) {
    throw DataError(source, row.line, "",
                    "expected " + std::to_string(header.size()) +
                        " fields (as in the header), got " + std::to_string(row.cells.size()));
  }
  for (size_t i = 0; i < row.cells.size(); ++i) {
    const size_t bad = find_invalid_utf8(row.cells[i]);
    if (bad != std::string_view::npos) {
      throw DataError(source, row.line, header[i],
                      "invalid UTF-8 at byte " + std::to_string(bad) + " of the value");
    }
  }
  Example ex;
  ex.source = source;
  ex.line = row.line;
  for (const auto& p : plan) {
    if (p.list) {
      auto& values = ex.lists[p.field];
      for (size_t c : p.columns) values.push_back(row.cells[c]);
    } else {
      ex.fields[p.field] = row.cells[p.columns[0]];
    }
  }
  return ex;
}

}  // namespace

void read_delimited(std::string_view content, const std::string& source, char delimiter,
                    const LoadOptions& options, std::vector<Example>& out, LoadReport& report) {
  DelimitedParser parser(content, source, delimiter);
  Row header;
  if (!parser.next(header)) return;  // empty file: no header, no rows
  for (size_t i = 0; i < header.cells.size(); ++i) {
    if (find_invalid_utf8(header.cells[i]) != std::string_view::npos) {
      throw DataError(source, header.line, "",
                      "invalid UTF-8 in header column " + std::to_string(i + 1));
    }
  }
  const auto plan = plan_columns(header.cells, options.mapping, source);
  Row row;
  while (!parser.at_end()) {
    bool got = false;
    const bool ok = guard_row(options, report, [&] {
      got = parser.next(row);
      if (got) {
        ++report.rows;
        out.push_back(row_to_example(row, header.cells, plan, source));
      }
    });
    if (!ok && !got) {
      ++report.rows;  // the row that failed to parse
      parser.skip_rest_of_line();
    }
    if (ok && !got) break;
  }
}

}  // namespace ptune::tasks::detail
