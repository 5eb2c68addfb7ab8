// See include/ptune/runs/export.h.
#include "ptune/runs/export.h"

#include <stdexcept>

#include "store_detail.h"

namespace ptune::runs {

namespace {

std::string text_of(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return detail::dump(v);
}

// The input as one cell: its "text" field when it has one, else the whole input as JSON.
std::string input_text(const nlohmann::json& rec) {
  const nlohmann::json input = rec.value("input", nlohmann::json());
  if (input.is_object() && input.contains("text")) return text_of(input["text"]);
  return text_of(input);
}

std::string confidence(const nlohmann::json& rec) {
  if (!rec.contains("label_scores") || !rec.contains("prediction")) return "";
  const nlohmann::json& scores = rec["label_scores"];
  const std::string pred = text_of(rec["prediction"]);
  if (!scores.contains(pred) || !scores[pred].contains("prob")) return "";
  return text_of(scores[pred]["prob"]);
}

}  // namespace

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

void export_examples(const Run& run, const std::string& format, std::ostream& out) {
  if (format == "jsonl") {
    for (const nlohmann::json& rec : run.examples) out << detail::dump(rec) << "\n";
    return;
  }
  if (format != "csv") {
    throw std::invalid_argument("--format: '" + format + "' is not jsonl or csv");
  }
  out << "run,index,source,input,gold,prediction,correct,confidence\r\n";
  for (size_t i = 0; i < run.examples.size(); ++i) {
    const nlohmann::json& r = run.examples[i];
    const std::string cells[] = {std::to_string(run.id),
                                 text_of(r.value("index", nlohmann::json(i))),
                                 text_of(r.value("source", nlohmann::json())),
                                 input_text(r),
                                 text_of(r.value("gold", nlohmann::json())),
                                 text_of(r.value("prediction", nlohmann::json())),
                                 text_of(r.value("correct", nlohmann::json())),
                                 confidence(r)};
    for (size_t c = 0; c < 8; ++c) out << (c ? "," : "") << csv_field(cells[c]);
    out << "\r\n";
  }
}

}  // namespace ptune::runs
