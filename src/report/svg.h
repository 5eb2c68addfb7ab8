// A small inline-SVG vocabulary for the report's charts: "nice number" axes (Heckbert 1990:
// steps of 1, 2 or 5 x 10^k), line and step charts with ticks, grid and axis labels, and the
// interval marks of the metric table. Output is SVG markup for an HTML page (no xmlns needed).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ptune::report::detail {

// A nice number near x > 0: rounded (nearest of 1, 2, 5, 10 x 10^k) or not (the next above).
double nice_number(double x, bool round);

// An axis covering [lo, hi] with about `target` ticks at a nice step; lo and hi are widened to
// multiples of the step. A degenerate range (lo == hi, or not finite) is widened around lo.
struct Axis {
  double lo = 0, hi = 1, step = 0.2;
  std::vector<double> ticks;
};
Axis nice_axis(double lo, double hi, int target = 5);

// A tick label with as many decimals as the step needs (1000 and up as "k").
std::string format_tick(double value, double step);

// Linear map from a data interval onto a pixel interval.
struct Scale {
  double d0, d1, r0, r1;
  double operator()(double v) const {
    return d1 == d0 ? (r0 + r1) / 2 : r0 + (v - d0) / (d1 - d0) * (r1 - r0);
  }
};

// "12.3" for SVG coordinates.
std::string px(double v);

struct Series {
  std::string name;   // plain text (escaped when drawn)
  std::string color;  // CSS colour
  std::vector<std::pair<double, double>> points;
};

struct ChartOptions {
  std::string id;  // the <svg>'s id ("" = none)
  std::string x_label, y_label;
  bool step = false;     // draw as a step function (value holds until the next x)
  bool markers = false;  // a dot with a tooltip at each point
  bool y_from_zero = false;
  int width = 760, height = 300;
};

// A chart of all series on shared axes. Series without points are skipped.
std::string line_chart(const std::vector<Series>& series, const ChartOptions& options);

// The HTML legend under a chart: a swatch and the name of each series.
std::string legend(const std::vector<Series>& series);

// A point at `value` with a whisker low..high on `axis` (a row of the metric table).
std::string interval_mark(const Axis& axis, double value, double low, double high,
                          bool has_interval, const std::string& color, int width = 260);

// The tick labels of `axis` as a strip for the head of a metric table group.
std::string axis_strip(const Axis& axis, int width = 260);

}  // namespace ptune::report::detail
