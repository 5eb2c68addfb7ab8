// `ptune report`: one self-contained HTML page drawing recorded runs (ptune/runs/run.h).
//
// The page has one tab per page type, selected by the URL hash (report.html#training; the
// default is #overview): overview (run table, headline metrics with 95% CI bars), training
// (loss and dev-metric learning curves), classification (confusion heatmaps, reliability
// diagrams with the expected calibration error), search (best score vs budget) and examples
// (the example x run matrix with filters, prompts side by side with a word diff). Tabs without
// data are left out of the tab bar; their section still says why, for direct links.
//
// Everything is inline (CSS, SVG charts, JS); the page fetches nothing and works from file://.
// Strings from runs are untrusted: they are escaped into HTML, and data the script needs travels
// as JSON in a <script type="application/json"> block. Invalid UTF-8 becomes U+FFFD.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ptune/runs/run.h"

namespace ptune::report {

struct ReportOptions {
  std::string title = "ptune report";
  size_t max_examples = 2000;    // rows of the example matrix (the rest are counted, not drawn)
  size_t reliability_bins = 10;  // equal-width confidence bins of the reliability diagrams
};

// The page. Throws std::invalid_argument when `runs` is empty.
std::string render_html(const std::vector<runs::Run>& runs, const ReportOptions& options = {});

// One confidence bin of a reliability diagram: [lo, hi) (the last bin includes 1).
struct ReliabilityBin {
  double lo = 0, hi = 0;
  size_t count = 0;
  double mean_confidence = 0;  // 0 for an empty bin
  double accuracy = 0;         // fraction correct; 0 for an empty bin
};

struct Reliability {
  std::vector<ReliabilityBin> bins;
  size_t total = 0;
  // Expected calibration error: sum over bins of count/total * |accuracy - mean_confidence|
  // (Guo et al. 2017); 0 when there are no examples.
  double ece = 0;
};

// Bins the (confidence, correct) pairs. Confidences are clamped to [0, 1]. Throws
// std::invalid_argument when the lists differ in length or `bins` is 0.
Reliability reliability(const std::vector<double>& confidence, const std::vector<bool>& correct,
                        size_t bins = 10);

// The same over a run's example records: confidence = max over "label_scores"[*]."prob",
// correct = "correct"; records without either are skipped (total says how many were used).
Reliability reliability_of_examples(const std::vector<nlohmann::json>& examples, size_t bins = 10);

}  // namespace ptune::report
