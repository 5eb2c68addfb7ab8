// The report page's stylesheet and script, inlined into every page (assets_css.cpp,
// assets_js.cpp) so the file needs nothing else.
#pragma once

namespace ptune::report::detail {

extern const char* const kReportCss;
extern const char* const kReportJs;

}  // namespace ptune::report::detail
