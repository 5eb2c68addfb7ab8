// A run's per-example records out of the store, for spreadsheets and scripts:
//   jsonl  one record per line, exactly as stored (eval's examples.jsonl lines)
//   csv    RFC 4180: run, index, source, input (the text field, or the input as JSON), gold,
//          prediction, correct, confidence (the predicted label's probability, when scored)
#pragma once

#include <ostream>
#include <string>

#include "ptune/runs/run.h"

namespace ptune::runs {

// Throws std::invalid_argument for a format other than "jsonl" or "csv".
void export_examples(const Run& run, const std::string& format, std::ostream& out);

// A CSV field, quoted when it holds a comma, quote, CR or LF (quotes doubled).
std::string csv_field(const std::string& text);

}  // namespace ptune::runs
