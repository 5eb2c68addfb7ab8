// Loading examples from JSONL, CSV and TSV files into task fields.
//
// A file row becomes an Example: a map from task field ("text", "label", "question", ...) to a
// string, plus list fields (JSON arrays, e.g. multiple-choice "choices" or several acceptable
// "answer"s) and the file and line it came from. A FieldMapping says which file column / JSON key
// feeds each task field; JSON keys may be dotted paths into nested objects ("meta.label") or
// arrays ("answers.0").
//
// Nothing is dropped silently: a malformed row throws DataError naming file, line and field; with
// skip_bad the row is skipped and counted in the LoadReport together with its reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ptune::tasks {

struct Example {
  std::map<std::string, std::string> fields;              // task field -> value
  std::map<std::string, std::vector<std::string>> lists;  // task field -> values (JSON arrays)
  std::string source;                                     // file the row came from
  int64_t line = 0;  // 1-based line where the row starts (0 for examples built in code)

  bool has(const std::string& field) const { return fields.count(field) > 0; }
  // The value of `field`; throws DataError naming source, line and field when it is missing.
  const std::string& get(const std::string& field) const;
  // The values of a list field, or the scalar value as a one-element list; throws when missing.
  std::vector<std::string> get_list(const std::string& field) const;
  // "file:line", for messages and per-example output.
  std::string location() const;
  // Same file row (the identity few-shot selection uses to keep the query out of its demos).
  bool same_row(const Example& other) const {
    return line == other.line && source == other.source && fields == other.fields;
  }
};

enum class FileFormat { Auto, Jsonl, Csv, Tsv };

// "auto", "jsonl", "csv", "tsv" -> enum; throws std::invalid_argument otherwise.
FileFormat parse_file_format(const std::string& name);
// From the extension (.jsonl/.json/.ndjson, .csv, .tsv/.tab); throws std::invalid_argument.
FileFormat format_from_path(const std::string& path);

// One task field fed by one source column / key, or (for a list field) by several columns.
struct FieldSource {
  std::vector<std::string> keys;  // one key = scalar (or JSON array) field; several = list field
  bool optional = false;          // a missing value is left out instead of being an error
};

// Task field -> source. Empty mapping = every top-level column / key maps to itself.
using FieldMapping = std::map<std::string, FieldSource>;

struct LoadOptions {
  FileFormat format = FileFormat::Auto;
  FieldMapping mapping;
  bool skip_bad = false;   // skip (and count) malformed rows instead of throwing
  size_t max_reasons = 5;  // how many skip reasons the report keeps verbatim
};

struct LoadReport {
  size_t rows = 0;                   // data rows seen (header and blank lines excluded)
  size_t loaded = 0;                 // rows that became examples
  size_t skipped = 0;                // rows dropped by skip_bad
  std::vector<std::string> reasons;  // the first max_reasons DataError messages

  // Records a skipped row's error.
  void add_skip(const std::string& reason, size_t max_reasons);
  void merge(const LoadReport& other, size_t max_reasons = 5);
};

// Reads a whole file. `report` may be null. Throws DataError for malformed rows unless
// options.skip_bad, and DataError (line 0) when the file cannot be read.
std::vector<Example> load_examples(const std::string& path, const LoadOptions& options,
                                   LoadReport* report = nullptr);

// Same, from text already in memory; `source` names it in errors. format must not be Auto.
std::vector<Example> parse_examples(std::string_view content, const std::string& source,
                                    const LoadOptions& options, LoadReport* report = nullptr);

}  // namespace ptune::tasks
