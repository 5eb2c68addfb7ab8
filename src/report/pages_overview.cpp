// The overview tab: every run in one table (what ran, on what, how it ended, how long it took)
// and the headline metrics across runs, each metric a group of rows on one shared axis with the
// value as a dot, its 95% interval as a whisker and the numbers as text.
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "report/pages.h"
#include "report/svg.h"

namespace ptune::report::detail {

using nlohmann::json;

namespace {

std::string short_time(const std::string& iso) {
  std::string s = iso;
  std::replace(s.begin(), s.end(), 'T', ' ');
  if (!s.empty() && s.back() == 'Z') s.pop_back();
  return s;
}

std::string wall_time(const runs::Run& run) {
  double seconds = 0;
  auto it = run.settings.find("seconds");
  if (run.settings.is_object() && it != run.settings.end() && it->is_number()) {
    return format_duration(it->get<double>());
  }
  if (seconds_between(run.started_at, run.finished_at, seconds)) return format_duration(seconds);
  return "";
}

std::string run_table(const std::vector<runs::Run>& runs) {
  std::ostringstream o;
  o << "<div class=\"card\"><h2>Runs</h2><div class=\"scroll-x\"><table id=\"run-table\">"
    << "<thead><tr><th>id</th><th>run</th><th>command</th><th>task</th><th>model</th>"
    << "<th>status</th><th>started</th><th class=\"num\">wall time</th><th>version</th></tr>"
    << "</thead><tbody>";
  for (size_t i = 0; i < runs.size(); ++i) {
    const runs::Run& r = runs[i];
    o << "<tr class=\"run-" << runs::to_string(r.status) << "\"><td class=\"num\">" << r.id
      << "</td><td>" << run_name_html(r, i) << "</td><td><code>" << escape(r.command)
      << "</code></td><td>" << escape(r.task) << "</td><td title=\"" << escape(r.model_sha256)
      << "\">" << escape(truncate(r.model, 40)) << "</td><td>" << status_badge(r);
    if (!r.error.empty()) {
      o << "<div class=\"error-text\">" << escape(truncate(r.error, 120)) << "</div>";
    }
    o << "</td><td class=\"nowrap\">" << escape(short_time(r.started_at))
      << "</td><td class=\"num nowrap\">" << escape(wall_time(r)) << "</td><td><code>"
      << escape(truncate(r.version, 24)) << "</code></td></tr>";
  }
  o << "</tbody></table></div></div>";
  return o.str();
}

struct MetricValue {
  size_t run;
  double value, low, high;
  bool has_interval;
  std::string unit;
};

// Headline metrics (objects with a numeric "value") by name, in order of first appearance.
std::vector<std::pair<std::string, std::vector<MetricValue>>> headline_metrics(
    const std::vector<runs::Run>& runs) {
  std::vector<std::pair<std::string, std::vector<MetricValue>>> out;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!runs[i].metrics.is_object()) continue;
    for (const auto& [name, m] : runs[i].metrics.items()) {
      if (!m.is_object() || !m.contains("value") || !m["value"].is_number()) continue;
      MetricValue v{i, m["value"].get<double>(), 0, 0, false, ""};
      if (m.contains("low") && m.contains("high") && m["low"].is_number() &&
          m["high"].is_number()) {
        v.low = m["low"].get<double>(), v.high = m["high"].get<double>();
        v.has_interval = std::isfinite(v.low) && std::isfinite(v.high);
      }
      if (m.contains("unit") && m["unit"].is_string()) v.unit = m["unit"].get<std::string>();
      auto it =
          std::find_if(out.begin(), out.end(), [&](const auto& e) { return e.first == name; });
      if (it == out.end()) it = out.insert(out.end(), {name, {}});
      it->second.push_back(v);
    }
  }
  return out;
}

void metric_group(std::ostringstream& o, const std::string& name,
                  const std::vector<MetricValue>& values, const std::vector<runs::Run>& runs) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const MetricValue& v : values) {
    if (!std::isfinite(v.value)) continue;
    lo = std::min({lo, v.value, v.has_interval ? v.low : v.value});
    hi = std::max({hi, v.value, v.has_interval ? v.high : v.value});
  }
  const Axis axis = nice_axis(lo, hi, 5);
  o << "<tbody class=\"metric-group\"><tr class=\"metric-head\"><th colspan=\"2\">" << escape(name)
    << "</th><td>" << axis_strip(axis) << "</td><td></td></tr>";
  for (const MetricValue& v : values) {
    const runs::Run& r = runs[v.run];
    o << "<tr class=\"run-" << runs::to_string(r.status) << "\"><td>" << run_name_html(r, v.run)
      << "</td><td>";
    if (r.status != runs::Status::Finished) o << status_badge(r);
    o << "</td><td>"
      << (std::isfinite(v.value)
              ? interval_mark(axis, v.value, v.low, v.high, v.has_interval, run_color(v.run))
              : "")
      << "</td><td class=\"num nowrap\"><b>" << format_number(v.value) << "</b>";
    if (v.has_interval) {
      o << " <span class=\"muted\">[" << format_number(v.low) << ", " << format_number(v.high)
        << "]</span>";
    }
    if (!v.unit.empty()) o << " <span class=\"muted\">" << escape(v.unit) << "</span>";
    o << "</td></tr>";
  }
  o << "</tbody>";
}

}  // namespace

Page overview_page(const Context& ctx) {
  std::ostringstream o;
  o << run_table(ctx.runs);
  const auto metrics = headline_metrics(ctx.runs);
  o << "<div class=\"card\"><h2>Metrics <span class=\"muted small\">value with 95% interval"
    << "</span></h2>";
  if (metrics.empty()) {
    o << "<p class=\"muted\">No run recorded headline metrics.</p>";
  } else {
    o << "<table id=\"metric-table\" class=\"metrics\"><colgroup><col class=\"c-run\">"
      << "<col class=\"c-status\"><col class=\"c-mark\"><col></colgroup>";
    for (const auto& [name, values] : metrics) metric_group(o, name, values, ctx.runs);
    o << "</table>";
  }
  o << "</div>";
  return {"overview", "Overview", o.str(), ""};
}

}  // namespace ptune::report::detail
