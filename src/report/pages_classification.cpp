// The classification tab: per run, the confusion matrix as a heatmap (rows gold, columns
// predicted, shaded by the share of the gold row, counts in the cells when they fit; many labels
// shrink the cells and rotate and cut the column labels) and the reliability diagram of the
// model's confidence (the top label probability) with its expected calibration error.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "report/pages.h"
#include "report/svg.h"

namespace ptune::report::detail {

using nlohmann::json;

namespace {

// The matrix as labels + n x n counts; false (with `why`) when the record is malformed.
bool read_confusion(const json& cm, std::vector<std::string>& labels,
                    std::vector<std::vector<double>>& counts, std::string& why) {
  if (!cm.is_object() || !cm.contains("labels") || !cm["labels"].is_array() ||
      !cm.contains("counts") || !cm["counts"].is_array()) {
    why = "confusion_matrix needs \"labels\" and \"counts\" arrays";
    return false;
  }
  for (const json& l : cm["labels"]) labels.push_back(text_of(l));
  const size_t n = labels.size();
  if (n == 0 || cm["counts"].size() != n) {
    why = "confusion_matrix has " + std::to_string(n) + " labels but " +
          std::to_string(cm["counts"].size()) + " rows";
    return false;
  }
  for (const json& row : cm["counts"]) {
    if (!row.is_array() || row.size() != n) {
      why = "a confusion_matrix row does not have one count per label";
      return false;
    }
    counts.emplace_back();
    for (const json& c : row) counts.back().push_back(c.is_number() ? c.get<double>() : 0.0);
  }
  return true;
}

std::string cell_fill(bool diagonal, double share) {
  if (share <= 0) return "#f3f5f7";
  const double a = 0.1 + 0.85 * std::min(share, 1.0);
  return std::string(diagonal ? "rgba(9,105,218," : "rgba(207,34,46,") + px(a) + ")";
}

std::string heatmap(const std::vector<std::string>& labels,
                    const std::vector<std::vector<double>>& counts, const std::string& id) {
  const size_t n = labels.size();
  const double cell = std::clamp(std::floor(640.0 / static_cast<double>(n)), 8.0, 46.0);
  const double font = std::clamp(cell * 0.5, 7.0, 12.0);
  const size_t cap = n > 30 ? 14 : 22;
  size_t longest = 1;
  std::vector<std::string> shown;
  for (const std::string& l : labels) {
    shown.push_back(truncate(l, cap));
    longest = std::max(longest, std::min(cap, l.size()));
  }
  const double text_w = static_cast<double>(longest) * font * 0.62 + 8;
  const double left = text_w + 22, top = text_w * 0.72 + 26;
  const double grid = cell * static_cast<double>(n);
  const double width = left + grid + text_w * 0.72 + 8, height = top + grid + 8;
  std::ostringstream o;
  o << "<svg class=\"heatmap\" id=\"" << escape(id) << "\" viewBox=\"0 0 " << px(width) << ' '
    << px(height) << "\" width=\"" << px(width) << "\" height=\"" << px(height) << "\">"
    << "<text class=\"label\" x=\"" << px(left + grid / 2) << "\" y=\"12\" text-anchor=\"middle\""
    << ">predicted</text><text class=\"label\" transform=\"translate(12," << px(top + grid / 2)
    << ") rotate(-90)\" text-anchor=\"middle\">gold</text>";
  for (size_t i = 0; i < n; ++i) {
    const double c = left + cell * (static_cast<double>(i) + 0.5);
    const double r = top + cell * (static_cast<double>(i) + 0.5);
    o << "<text class=\"cm-label\" font-size=\"" << px(font) << "\" x=\"" << px(left - 6)
      << "\" y=\"" << px(r + font * 0.35) << "\" text-anchor=\"end\"><title>" << escape(labels[i])
      << "</title>" << escape(shown[i]) << "</text><text class=\"cm-label\" font-size=\""
      << px(font) << "\" transform=\"translate(" << px(c + font * 0.3) << ',' << px(top - 5)
      << ") rotate(-45)\"><title>" << escape(labels[i]) << "</title>" << escape(shown[i])
      << "</text>";
  }
  // Zero cells are one patterned rectangle (a 77-label matrix is mostly zeros); the rest are
  // drawn one by one with a tooltip.
  const std::string pattern = escape(id) + "-zero";
  o << "<defs><pattern id=\"" << pattern << "\" x=\"" << px(left) << "\" y=\"" << px(top)
    << "\" width=\"" << px(cell) << "\" height=\"" << px(cell)
    << "\" patternUnits=\"userSpaceOnUse\"><rect width=\"" << px(cell - 1) << "\" height=\""
    << px(cell - 1) << "\" fill=\"" << cell_fill(false, 0) << "\"/></pattern></defs><rect x=\""
    << px(left) << "\" y=\"" << px(top) << "\" width=\"" << px(grid) << "\" height=\"" << px(grid)
    << "\" fill=\"url(#" << pattern << ")\"/>";
  const double count_font = std::clamp(cell * 0.36, 7.0, 12.0);
  for (size_t g = 0; g < n; ++g) {
    double total = 0;
    for (double v : counts[g]) total += v;
    for (size_t p = 0; p < n; ++p) {
      const double v = counts[g][p], share = total > 0 ? v / total : 0;
      const double x = left + cell * static_cast<double>(p),
                   y = top + cell * static_cast<double>(g);
      if (v == 0) continue;
      o << "<rect x=\"" << px(x) << "\" y=\"" << px(y) << "\" width=\"" << px(cell - 1)
        << "\" height=\"" << px(cell - 1) << "\" fill=\"" << cell_fill(g == p, share)
        << "\"><title>gold " << escape(labels[g]) << ", predicted " << escape(labels[p]) << ": "
        << format_number(v) << " (" << format_number(100 * share, 3) << "% of gold)</title></rect>";
      if (cell >= 16) {
        o << "<text class=\"cm-count" << (share > 0.55 ? " light" : "") << "\" font-size=\""
          << px(count_font) << "\" x=\"" << px(x + (cell - 1) / 2) << "\" y=\""
          << px(y + (cell - 1) / 2 + count_font * 0.35) << "\" text-anchor=\"middle\">"
          << format_number(v) << "</text>";
      }
    }
  }
  o << "</svg>";
  return o.str();
}

std::string reliability_svg(const Reliability& rel, const std::string& id,
                            const std::string& color) {
  const double w = 300, h = 280, left = 48, right = 12, top = 14, bottom = 44;
  const Scale sx{0, 1, left, w - right}, sy{0, 1, h - bottom, top};
  const Axis axis = nice_axis(0, 1, 6);
  std::ostringstream o;
  o << "<svg class=\"chart reliability\" id=\"" << escape(id) << "\" viewBox=\"0 0 " << w << ' '
    << h << "\" width=\"" << w << "\" height=\"" << h << "\">";
  for (double t : axis.ticks) {
    o << "<line class=\"grid\" x1=\"" << px(left) << "\" x2=\"" << px(w - right) << "\" y1=\""
      << px(sy(t)) << "\" y2=\"" << px(sy(t)) << "\"/><text class=\"tick\" x=\"" << px(left - 6)
      << "\" y=\"" << px(sy(t) + 4) << "\" text-anchor=\"end\">" << format_tick(t, axis.step)
      << "</text><text class=\"tick\" x=\"" << px(sx(t)) << "\" y=\"" << px(h - bottom + 16)
      << "\" text-anchor=\"middle\">" << format_tick(t, axis.step) << "</text>";
  }
  for (const ReliabilityBin& b : rel.bins) {
    if (b.count == 0) continue;
    const double x = sx(b.lo) + 1, bw = sx(b.hi) - sx(b.lo) - 2;
    const double ya = sy(b.accuracy), yc = sy(b.mean_confidence);
    o << "<rect x=\"" << px(x) << "\" y=\"" << px(ya) << "\" width=\"" << px(bw) << "\" height=\""
      << px(sy(0) - ya) << "\" fill=\"" << color << "\" opacity=\"0.85\"><title>confidence "
      << format_tick(b.lo, 0.1) << "-" << format_tick(b.hi, 0.1) << ": " << b.count
      << " examples, accuracy " << format_number(b.accuracy, 3) << ", mean confidence "
      << format_number(b.mean_confidence, 3) << "</title></rect><rect class=\"gap\" x=\"" << px(x)
      << "\" y=\"" << px(std::min(ya, yc)) << "\" width=\"" << px(bw) << "\" height=\""
      << px(std::fabs(ya - yc)) << "\"/><text class=\"bin-count\" x=\"" << px(x + bw / 2)
      << "\" y=\"" << px(std::min(ya, yc) - 3) << "\" text-anchor=\"middle\">" << b.count
      << "</text>";
  }
  o << "<line class=\"diagonal\" x1=\"" << px(sx(0)) << "\" y1=\"" << px(sy(0)) << "\" x2=\""
    << px(sx(1)) << "\" y2=\"" << px(sy(1)) << "\"/><line class=\"axis\" x1=\"" << px(left)
    << "\" x2=\"" << px(w - right) << "\" y1=\"" << px(sy(0)) << "\" y2=\"" << px(sy(0))
    << "\"/><text class=\"label\" x=\"" << px((left + w - right) / 2) << "\" y=\"" << px(h - 8)
    << "\" text-anchor=\"middle\">confidence (top label probability)</text>"
    << "<text class=\"label\" transform=\"translate(14," << px((top + h - bottom) / 2)
    << ") rotate(-90)\" text-anchor=\"middle\">accuracy</text></svg>";
  return o.str();
}

std::string run_card(const runs::Run& r, size_t index, const ReportOptions& options) {
  std::ostringstream figs;
  if (r.metrics.is_object() && r.metrics.contains("confusion_matrix")) {
    std::vector<std::string> labels;
    std::vector<std::vector<double>> counts;
    std::string why;
    figs << "<figure><figcaption>Confusion matrix</figcaption>";
    if (read_confusion(r.metrics["confusion_matrix"], labels, counts, why)) {
      figs << "<div class=\"scroll-x\">"
           << heatmap(labels, counts, "confusion-" + std::to_string(r.id)) << "</div>";
    } else {
      figs << "<p class=\"muted\">" << escape(why) << "</p>";
    }
    figs << "</figure>";
  }
  const Reliability rel = reliability_of_examples(r.examples, options.reliability_bins);
  if (rel.total > 0) {
    double acc = 0, conf = 0;
    for (const ReliabilityBin& b : rel.bins) {
      acc += b.accuracy * static_cast<double>(b.count);
      conf += b.mean_confidence * static_cast<double>(b.count);
    }
    const double n = static_cast<double>(rel.total);
    figs << "<figure><figcaption>Reliability</figcaption>"
         << reliability_svg(rel, "reliability-" + std::to_string(r.id), run_color(index))
         << "<p class=\"ece\">ECE <b>" << format_number(rel.ece, 3) << "</b> &middot; " << rel.total
         << " examples &middot; accuracy " << format_number(acc / n, 3)
         << " &middot; mean confidence " << format_number(conf / n, 3) << "</p></figure>";
  }
  const std::string body = figs.str();
  if (body.empty()) return "";
  return "<div class=\"card\"><h2>" + run_name_html(r, index) + " " +
         (r.status == runs::Status::Finished ? "" : status_badge(r)) +
         "</h2><div class=\"figures\">" + body + "</div></div>";
}

}  // namespace

Page classification_page(const Context& ctx) {
  std::string cards;
  for (size_t i = 0; i < ctx.runs.size(); ++i) cards += run_card(ctx.runs[i], i, ctx.options);
  if (cards.empty()) {
    return {"classification", "Classification", "",
            "no run has a confusion matrix or examples with label probabilities"};
  }
  return {"classification", "Classification", "<div class=\"card-row\">" + cards + "</div>", ""};
}

}  // namespace ptune::report::detail
