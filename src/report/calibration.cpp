// Reliability diagrams' numbers: equal-width confidence bins, accuracy per bin and the expected
// calibration error (Guo et al. 2017, "On Calibration of Modern Neural Networks"); see
// include/ptune/report/report.h. In C++ rather than in the page's script so tests can check it.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "ptune/report/report.h"

namespace ptune::report {

Reliability reliability(const std::vector<double>& confidence, const std::vector<bool>& correct,
                        size_t bins) {
  if (confidence.size() != correct.size()) {
    throw std::invalid_argument("reliability: " + std::to_string(confidence.size()) +
                                " confidences but " + std::to_string(correct.size()) + " outcomes");
  }
  if (bins == 0) throw std::invalid_argument("reliability: bins must be at least 1");
  Reliability r;
  r.bins.resize(bins);
  std::vector<double> conf_sum(bins, 0), hits(bins, 0);
  for (size_t b = 0; b < bins; ++b) {
    r.bins[b].lo = static_cast<double>(b) / static_cast<double>(bins);
    r.bins[b].hi = static_cast<double>(b + 1) / static_cast<double>(bins);
  }
  for (size_t i = 0; i < confidence.size(); ++i) {
    const double c = std::isfinite(confidence[i]) ? std::clamp(confidence[i], 0.0, 1.0) : 0.0;
    const size_t b = std::min(bins - 1, static_cast<size_t>(c * static_cast<double>(bins)));
    ++r.bins[b].count;
    conf_sum[b] += c;
    hits[b] += correct[i] ? 1 : 0;
  }
  r.total = confidence.size();
  for (size_t b = 0; b < bins; ++b) {
    ReliabilityBin& bin = r.bins[b];
    if (bin.count == 0) continue;
    const double n = static_cast<double>(bin.count);
    bin.mean_confidence = conf_sum[b] / n;
    bin.accuracy = hits[b] / n;
    r.ece += n / static_cast<double>(r.total) * std::fabs(bin.accuracy - bin.mean_confidence);
  }
  return r;
}

Reliability reliability_of_examples(const std::vector<nlohmann::json>& examples, size_t bins) {
  std::vector<double> confidence;
  std::vector<bool> correct;
  for (const nlohmann::json& e : examples) {
    if (!e.is_object()) continue;
    auto scores = e.find("label_scores");
    auto ok = e.find("correct");
    if (scores == e.end() || !scores->is_object() || ok == e.end() || !ok->is_boolean()) continue;
    double best = -1;
    for (const auto& [label, s] : scores->items()) {
      if (!s.is_object()) continue;
      auto p = s.find("prob");
      if (p != s.end() && p->is_number()) best = std::max(best, p->get<double>());
    }
    if (best < 0) continue;
    confidence.push_back(best);
    correct.push_back(ok->get<bool>());
  }
  return reliability(confidence, correct, bins);
}

}  // namespace ptune::report
