// CSV / TSV rows -> Examples: the header's columns mapped to task fields, every value checked to
// be UTF-8. The parsing itself is util::CsvReader (RFC 4180).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ptune/util/csv.h"
#include "ptune/util/utf8.h"
#include "readers.h"

namespace ptune::tasks::detail {
namespace {

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

void check_header(const util::CsvRow& header, const std::string& source) {
  for (size_t i = 0; i < header.fields.size(); ++i) {
    if (util::find_invalid_utf8(header.fields[i]) != std::string_view::npos) {
      throw DataError(source, header.line, "",
                      "invalid UTF-8 in header column " + std::to_string(i + 1));
    }
  }
}

// `row` has as many fields as the header (the reader checks the count).
Example row_to_example(const util::CsvRow& row, const std::vector<std::string>& header,
                       const std::vector<ColumnPlan>& plan, const std::string& source) {
  for (size_t i = 0; i < row.fields.size(); ++i) {
    const size_t bad = util::find_invalid_utf8(row.fields[i]);
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
      for (size_t c : p.columns) values.push_back(row.fields[c]);
    } else {
      ex.fields[p.field] = row.fields[p.columns[0]];
    }
  }
  return ex;
}

}  // namespace

void read_delimited(std::string_view content, const std::string& source, char delimiter,
                    const LoadOptions& options, std::vector<Example>& out, LoadReport& report) {
  // A malformed header is never skipped: without it no row can be read.
  util::CsvReader reader =
      as_data_error([&] { return util::CsvReader(content, source, delimiter); });
  if (!reader.has_header()) return;  // empty file: no header, no rows
  const util::CsvRow& header = reader.header();
  check_header(header, source);
  const auto plan = plan_columns(header.fields, options.mapping, source);
  for (bool more = true; more;) {
    guard_row(options, report, [&] {
      util::CsvRow row;
      more = next_counted(report, [&] { return reader.next(row); });
      if (!more) return;
      out.push_back(row_to_example(row, header.fields, plan, source));
    });
  }
}

}  // namespace ptune::tasks::detail
