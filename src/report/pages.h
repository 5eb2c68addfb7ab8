// The report's tabs, one function per page type (pages_<name>.cpp), and the run facts several
// of them share. Each returns a Page whose html is empty when the runs give it nothing to draw.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "ptune/report/report.h"
#include "ptune/runs/run.h"
#include "report/html.h"

namespace ptune::report::detail {

struct Context {
  const std::vector<runs::Run>& runs;
  const ReportOptions& options;
  nlohmann::json& data;  // the page's JSON block: pages add what their script needs
};

Page overview_page(const Context& ctx);
Page training_page(const Context& ctx);
Page classification_page(const Context& ctx);
Page search_page(const Context& ctx);
Page examples_page(const Context& ctx);

// A run's name with its colour swatch (HTML).
std::string run_name_html(const runs::Run& run, size_t index);

// The status as a coloured badge (HTML); a failed run's error is its tooltip.
std::string status_badge(const runs::Run& run);

// Seconds between two ISO 8601 UTC times ("2026-12-01T14:05:09Z"); false when either does not
// parse.
bool seconds_between(const std::string& start, const std::string& end, double& seconds);

// "42.1 s", "3 min 12 s", "2 h 05 min".
std::string format_duration(double seconds);

}  // namespace ptune::report::detail
