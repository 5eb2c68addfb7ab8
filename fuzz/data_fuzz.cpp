// libFuzzer target for data files: tasks::parse_examples on the input as JSONL, CSV or TSV.
// The first byte picks the options (bits 0-1: format, 0 and 3 JSONL, 1 CSV, 2 TSV; bit 2:
// skip_bad; bit 3: a field mapping with a list field and an optional field), the rest is the
// file. Only DataError may escape; a crash, a sanitizer report, another exception (the reader's
// own row-accounting check included), an example with a field that is not valid UTF-8, or one
// without its source and line is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ptune/tasks/dataset.h"
#include "ptune/tasks/errors.h"
#include "ptune/util/utf8.h"

namespace {

using ptune::tasks::DataError;
using ptune::tasks::Example;
using ptune::tasks::FileFormat;
using ptune::tasks::LoadOptions;
using ptune::tasks::LoadReport;

LoadOptions options_from(uint8_t bits) {
  LoadOptions o;
  const FileFormat formats[] = {FileFormat::Jsonl, FileFormat::Csv, FileFormat::Tsv,
                                FileFormat::Jsonl};
  o.format = formats[bits & 3];
  o.skip_bad = (bits & 4) != 0;
  if (bits & 8) {
    o.mapping["text"] = {{"sentence"}, false};
    o.mapping["label"] = {{"label"}, true};
    o.mapping["choices"] = {{"a", "b", "c"}, false};
  }
  return o;
}

bool valid(std::string_view s) {
  return ptune::util::find_invalid_utf8(s) == std::string_view::npos;
}

void check_example(const Example& ex) {
  if (ex.source != "fuzz" || ex.line < 1) std::abort();
  for (const auto& [name, value] : ex.fields)
    if (!valid(name) || !valid(value)) std::abort();
  for (const auto& [name, values] : ex.lists)
    for (const std::string& v : values)
      if (!valid(name) || !valid(v)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const LoadOptions options = options_from(data[0]);
  const std::string_view content(reinterpret_cast<const char*>(data) + 1, size - 1);
  LoadReport report;
  std::vector<Example> examples;
  try {
    examples = ptune::tasks::parse_examples(content, "fuzz", options, &report);
  } catch (const DataError& e) {
    if (e.file() != "fuzz") std::abort();
    return 0;
  }
  if (report.loaded != examples.size() || report.reasons.size() > options.max_reasons) std::abort();
  if (!options.skip_bad && report.skipped != 0) std::abort();
  for (const Example& ex : examples) check_example(ex);
  return 0;
}
