#include "ptune/tasks/dataset.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "ptune/tasks/errors.h"
#include "ptune/util/files.h"
#include "readers.h"

namespace ptune::tasks {

const std::string& Example::get(const std::string& field) const {
  auto it = fields.find(field);
  if (it == fields.end()) {
    throw DataError(source.empty() ? "<example>" : source, line, field,
                    lists.count(field) ? "is a list, expected a single value" : "missing");
  }
  return it->second;
}

std::vector<std::string> Example::get_list(const std::string& field) const {
  if (auto it = lists.find(field); it != lists.end()) return it->second;
  return {get(field)};
}

std::string Example::location() const {
  return (source.empty() ? "<example>" : source) + ":" + std::to_string(line);
}

FileFormat parse_file_format(const std::string& name) {
  if (name == "auto") return FileFormat::Auto;
  if (name == "jsonl") return FileFormat::Jsonl;
  if (name == "csv") return FileFormat::Csv;
  if (name == "tsv") return FileFormat::Tsv;
  throw std::invalid_argument("unknown data format '" + name +
                              "' (expected auto, jsonl, csv or tsv)");
}

FileFormat format_from_path(const std::string& path) {
  const size_t dot = path.rfind('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == "jsonl" || ext == "json" || ext == "ndjson") return FileFormat::Jsonl;
  if (ext == "csv") return FileFormat::Csv;
  if (ext == "tsv" || ext == "tab") return FileFormat::Tsv;
  throw std::invalid_argument("cannot tell the format of '" + path +
                              "' from its extension; set it (jsonl, csv or tsv)");
}

void LoadReport::add_skip(const std::string& reason, size_t max_reasons) {
  ++skipped;
  if (reasons.size() < max_reasons) reasons.push_back(reason);
}

void LoadReport::merge(const LoadReport& other, size_t max_reasons) {
  rows += other.rows;
  loaded += other.loaded;
  skipped += other.skipped;
  for (const auto& r : other.reasons) {
    if (reasons.size() < max_reasons) reasons.push_back(r);
  }
}

std::vector<Example> parse_examples(std::string_view content, const std::string& source,
                                    const LoadOptions& options, LoadReport* report) {
  LoadReport local;
  LoadReport& rep = report ? *report : local;
  const size_t before_rows = rep.rows, before_skipped = rep.skipped;
  // A UTF-8 byte order mark (Excel writes one) is not part of the first column's name.
  if (content.substr(0, 3) == "\xEF\xBB\xBF") content.remove_prefix(3);
  std::vector<Example> out;
  switch (options.format) {
    case FileFormat::Jsonl:
      detail::read_jsonl(content, source, options, out, rep);
      break;
    case FileFormat::Csv:
      detail::read_delimited(content, source, ',', options, out, rep);
      break;
    case FileFormat::Tsv:
      detail::read_delimited(content, source, '\t', options, out, rep);
      break;
    case FileFormat::Auto:
      throw std::invalid_argument("parse_examples needs a concrete format for " + source);
  }
  rep.loaded += out.size();
  // Every row is accounted for: loaded + skipped == rows.
  if (rep.rows - before_rows != out.size() + (rep.skipped - before_skipped)) {
    throw std::logic_error("row accounting mismatch while reading " + source);
  }
  return out;
}

std::vector<Example> load_examples(const std::string& path, const LoadOptions& options,
                                   LoadReport* report) {
  std::string text;
  try {
    text = util::read_file_bounded(path, util::kMaxDataFileBytes);
  } catch (const std::runtime_error& e) {
    throw DataError(path, 0, "", std::string("data file ") + e.what());
  }
  LoadOptions resolved = options;
  if (resolved.format == FileFormat::Auto) {
    try {
      resolved.format = format_from_path(path);
    } catch (const std::invalid_argument& e) {
      throw DataError(path, 0, "", e.what());
    }
  }
  return parse_examples(text, path, resolved, report);
}

}  // namespace ptune::tasks
