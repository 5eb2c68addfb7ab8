// The training tab: learning curves from the runs' step records (tune's log lines): training
// loss vs step, one line per run, and the dev metric ("eval", logged every few steps) vs step
// in a second chart, plus a small table of where each run ended.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "report/pages.h"
#include "report/svg.h"

namespace ptune::report::detail {

using nlohmann::json;

namespace {

// (step, value of `key`) over a run's steps; a record without "step" counts as its position.
std::vector<std::pair<double, double>> curve(const runs::Run& run, const char* key) {
  std::vector<std::pair<double, double>> points;
  for (size_t i = 0; i < run.steps.size(); ++i) {
    const json& s = run.steps[i];
    if (!s.is_object() || !s.contains(key)) continue;
    double y, x = static_cast<double>(i + 1);
    if (!number_of(s[key], y) || !std::isfinite(y)) continue;
    if (s.contains("step") && s["step"].is_number()) x = s["step"].get<double>();
    points.emplace_back(x, y);
  }
  return points;
}

std::string summary_table(const std::vector<runs::Run>& runs, const std::vector<size_t>& which,
                          const std::vector<Series>& loss, const std::vector<Series>& eval) {
  std::ostringstream o;
  o << "<table class=\"compact\"><thead><tr><th>run</th><th>status</th><th class=\"num\">steps"
    << "</th><th class=\"num\">first loss</th><th class=\"num\">last loss</th>"
    << "<th class=\"num\">best dev</th><th class=\"num\">last dev</th></tr></thead><tbody>";
  for (size_t k = 0; k < which.size(); ++k) {
    const runs::Run& r = runs[which[k]];
    const auto& lp = loss[k].points;
    const auto& ep = eval[k].points;
    o << "<tr><td>" << run_name_html(r, which[k]) << "</td><td>" << status_badge(r)
      << "</td><td class=\"num\">" << (lp.empty() ? "" : format_number(lp.back().first))
      << "</td><td class=\"num\">" << (lp.empty() ? "" : format_number(lp.front().second))
      << "</td><td class=\"num\">" << (lp.empty() ? "" : format_number(lp.back().second))
      << "</td><td class=\"num\">";
    if (!ep.empty()) {
      double best = ep.front().second;
      for (const auto& p : ep) best = std::max(best, p.second);
      o << format_number(best) << "</td><td class=\"num\">" << format_number(ep.back().second);
    } else {
      o << "</td><td class=\"num\">";
    }
    o << "</td></tr>";
  }
  o << "</tbody></table>";
  return o.str();
}

}  // namespace

Page training_page(const Context& ctx) {
  std::vector<size_t> which;
  std::vector<Series> loss, eval;
  bool any_eval = false;
  for (size_t i = 0; i < ctx.runs.size(); ++i) {
    const runs::Run& r = ctx.runs[i];
    Series l{r.label(), run_color(i), curve(r, "loss")};
    Series e{r.label(), run_color(i), curve(r, "eval")};
    if (l.points.empty() && e.points.empty()) continue;
    any_eval = any_eval || !e.points.empty();
    which.push_back(i);
    loss.push_back(std::move(l));
    eval.push_back(std::move(e));
  }
  if (which.empty()) {
    return {"training", "Training", "", "no run has step records with \"loss\" or \"eval\""};
  }
  std::ostringstream o;
  o << "<div id=\"learning-curves\"><div class=\"card-row\"><div class=\"card\"><h2>Training "
    << "loss</h2>";
  ChartOptions opt;
  opt.width = 600;
  opt.x_label = "step";
  opt.y_label = "loss";
  opt.id = "loss-chart";
  const std::string loss_chart = line_chart(loss, opt);
  o << (loss_chart.empty() ? "<p class=\"muted\">No loss was logged.</p>" : loss_chart)
    << legend(loss) << "</div>";
  if (any_eval) {
    opt.y_label = "dev metric";
    opt.id = "eval-chart";
    opt.markers = true;
    o << "<div class=\"card\"><h2>Dev metric</h2>" << line_chart(eval, opt) << legend(eval)
      << "</div>";
  }
  o << "</div><div class=\"card\"><h2>Where each run ended</h2>"
    << summary_table(ctx.runs, which, loss, eval) << "</div></div>";
  return {"training", "Training", o.str(), ""};
}

}  // namespace ptune::report::detail
