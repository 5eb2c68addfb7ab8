// render_html: collects the pages (pages_*.cpp) into the shell (html.cpp), plus the run facts
// the pages share (names, status badges, durations); see include/ptune/report/report.h.
#include "ptune/report/report.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "report/pages.h"

namespace ptune::report {

namespace detail {

std::string run_name_html(const runs::Run& run, size_t index) {
  return "<span class=\"run-name\"><span class=\"swatch\" style=\"background:" + run_color(index) +
         "\"></span>" + escape(run.label()) + "</span>";
}

std::string status_badge(const runs::Run& run) {
  const std::string status = runs::to_string(run.status);
  std::string html = "<span class=\"badge " + status + "\"";
  if (!run.error.empty()) html += " title=\"" + escape(run.error) + "\"";
  return html + ">" + status + "</span>";
}

namespace {

// Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil).
long long days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

bool parse_iso(const std::string& text, double& seconds) {
  int y, mo, d, h, mi;
  double s;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%lf", &y, &mo, &d, &h, &mi, &s) != 6) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return false;
  seconds = static_cast<double>(days_from_civil(y, mo, d)) * 86400 + h * 3600 + mi * 60 + s;
  return true;
}

}  // namespace

bool seconds_between(const std::string& start, const std::string& end, double& seconds) {
  double a, b;
  if (!parse_iso(start, a) || !parse_iso(end, b) || b < a) return false;
  seconds = b - a;
  return true;
}

std::string format_duration(double seconds) {
  char buf[64];
  if (!std::isfinite(seconds) || seconds < 0) return "";
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1f s", seconds);
  } else if (seconds < 3600) {
    const long long s = std::llround(seconds);
    std::snprintf(buf, sizeof buf, "%lld min %02lld s", s / 60, s % 60);
  } else {
    const long long m = std::llround(seconds / 60);
    std::snprintf(buf, sizeof buf, "%lld h %02lld min", m / 60, m % 60);
  }
  return buf;
}

}  // namespace detail

std::string render_html(const std::vector<runs::Run>& runs, const ReportOptions& options) {
  if (runs.empty()) throw std::invalid_argument("report: no runs to draw");
  nlohmann::json data = nlohmann::json::object();
  const detail::Context ctx{runs, options, data};
  std::vector<detail::Page> pages;
  pages.push_back(detail::overview_page(ctx));
  pages.push_back(detail::training_page(ctx));
  pages.push_back(detail::classification_page(ctx));
  pages.push_back(detail::search_page(ctx));
  pages.push_back(detail::examples_page(ctx));
  std::string first = runs.front().started_at, last = first;
  for (const runs::Run& r : runs) {
    if (!r.started_at.empty() && (first.empty() || r.started_at < first)) first = r.started_at;
    if (r.started_at > last) last = r.started_at;
  }
  std::string subtitle = std::to_string(runs.size()) + (runs.size() == 1 ? " run" : " runs");
  if (!first.empty()) {
    subtitle += " &middot; " + detail::escape(first.substr(0, 10));
    if (last.substr(0, 10) != first.substr(0, 10)) {
      subtitle += " to " + detail::escape(last.substr(0, 10));
    }
  }
  return detail::page_shell(options.title, subtitle, pages, data);
}

}  // namespace ptune::report
