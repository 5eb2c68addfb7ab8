// The search tab: for runs of `ptune search`, the best score found so far against the budget
// spent (example evaluations), as a step chart: the score holds until a better prompt appears.
#include <cmath>
#include <sstream>

#include "report/pages.h"
#include "report/svg.h"

namespace ptune::report::detail {

using nlohmann::json;

Page search_page(const Context& ctx) {
  std::vector<Series> series;
  std::ostringstream rows;
  for (size_t i = 0; i < ctx.runs.size(); ++i) {
    const runs::Run& r = ctx.runs[i];
    if (r.command != "search") continue;
    Series s{r.label(), run_color(i), {}};
    for (const json& step : r.steps) {
      if (!step.is_object() || !step.contains("budget") || !step.contains("best")) continue;
      double budget, best;
      if (!number_of(step["budget"], budget) || !number_of(step["best"], best)) continue;
      if (std::isfinite(budget) && std::isfinite(best)) s.points.emplace_back(budget, best);
    }
    if (s.points.empty()) continue;
    rows << "<tr><td>" << run_name_html(r, i) << "</td><td>" << status_badge(r)
         << "</td><td class=\"num\">" << format_number(s.points.back().first)
         << "</td><td class=\"num\">" << format_number(s.points.front().second)
         << "</td><td class=\"num\"><b>" << format_number(s.points.back().second)
         << "</b></td></tr>";
    series.push_back(std::move(s));
  }
  if (series.empty()) {
    return {"search", "Search", "", "no search run has steps with \"budget\" and \"best\""};
  }
  ChartOptions opt;
  opt.id = "search-progress";
  opt.x_label = "budget (example evaluations)";
  opt.y_label = "best score";
  opt.step = true;
  opt.markers = true;
  opt.width = 680;
  std::ostringstream o;
  o << "<div class=\"card-row\"><div class=\"card\"><h2>Best score vs budget</h2>"
    << line_chart(series, opt) << legend(series) << "</div><div class=\"card\"><h2>Search runs</h2>"
    << "<table class=\"compact\"><thead><tr><th>run</th><th>status</th><th class=\"num\">budget "
    << "spent</th><th class=\"num\">first best</th><th class=\"num\">final best</th></tr>"
    << "</thead><tbody>" << rows.str() << "</tbody></table></div></div>";
  return {"search", "Search", o.str(), ""};
}

}  // namespace ptune::report::detail
