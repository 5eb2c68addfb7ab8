// Axes, line charts and interval marks as inline SVG; see svg.h.
#include "report/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "report/html.h"

namespace ptune::report::detail {

double nice_number(double x, bool round) {
  if (!(x > 0) || !std::isfinite(x)) return 1;
  const double exponent = std::floor(std::log10(x));
  const double base = std::pow(10.0, exponent);
  const double f = x / base;
  double nf;
  if (round) {
    nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  } else {
    nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  }
  return nf * base;
}

Axis nice_axis(double lo, double hi, int target) {
  if (!std::isfinite(lo)) lo = 0;
  if (!std::isfinite(hi)) hi = lo;
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  target = std::max(target, 2);
  Axis axis;
  axis.step = nice_number((hi - lo) / (target - 1), true);
  const double first = std::floor(lo / axis.step + 1e-9);
  const double last = std::ceil(hi / axis.step - 1e-9);
  axis.lo = first * axis.step;
  axis.hi = last * axis.step;
  for (double k = first; k <= last + 0.5; k += 1) {
    const double t = k * axis.step;
    axis.ticks.push_back(t == 0 ? 0.0 : t);  // no "-0"
  }
  return axis;
}

std::string format_tick(double value, double step) {
  if (step >= 1000 && std::fabs(value) >= 1000) {
    return format_tick(value / 1000, step / 1000) + "k";
  }
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

namespace {

struct Frame {
  double left = 60, right = 18, top = 14, bottom = 46;
};

// Data extent over all points; false when there are none.
bool extent(const std::vector<Series>& series, double& x0, double& x1, double& y0, double& y1) {
  x0 = y0 = std::numeric_limits<double>::infinity();
  x1 = y1 = -x0;
  for (const Series& s : series) {
    for (const auto& [x, y] : s.points) {
      x0 = std::min(x0, x), x1 = std::max(x1, x);
      y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  }
  return x0 <= x1;
}

void draw_axes(std::ostringstream& o, const Axis& ax, const Axis& ay, const Scale& sx,
               const Scale& sy, const ChartOptions& opt, const Frame& f) {
  for (double t : ay.ticks) {
    o << "<line class=\"grid\" x1=\"" << px(f.left) << "\" x2=\"" << px(opt.width - f.right)
      << "\" y1=\"" << px(sy(t)) << "\" y2=\"" << px(sy(t)) << "\"/>"
      << "<text class=\"tick\" x=\"" << px(f.left - 6) << "\" y=\"" << px(sy(t) + 4)
      << "\" text-anchor=\"end\">" << format_tick(t, ay.step) << "</text>";
  }
  const double base = opt.height - f.bottom;
  for (double t : ax.ticks) {
    o << "<line class=\"axis\" x1=\"" << px(sx(t)) << "\" x2=\"" << px(sx(t)) << "\" y1=\""
      << px(base) << "\" y2=\"" << px(base + 5) << "\"/>"
      << "<text class=\"tick\" x=\"" << px(sx(t)) << "\" y=\"" << px(base + 18)
      << "\" text-anchor=\"middle\">" << format_tick(t, ax.step) << "</text>";
  }
  o << "<line class=\"axis\" x1=\"" << px(f.left) << "\" x2=\"" << px(opt.width - f.right)
    << "\" y1=\"" << px(base) << "\" y2=\"" << px(base) << "\"/>"
    << "<text class=\"label\" x=\"" << px((f.left + opt.width - f.right) / 2) << "\" y=\""
    << px(opt.height - 6) << "\" text-anchor=\"middle\">" << escape(opt.x_label) << "</text>"
    << "<text class=\"label\" transform=\"translate(14," << px((f.top + base) / 2)
    << ") rotate(-90)\" text-anchor=\"middle\">" << escape(opt.y_label) << "</text>";
}

void draw_series(std::ostringstream& o, const Series& s, const Scale& sx, const Scale& sy,
                 const ChartOptions& opt) {
  o << "<polyline class=\"series\" stroke=\"" << s.color << "\" points=\"";
  for (size_t i = 0; i < s.points.size(); ++i) {
    const auto& [x, y] = s.points[i];
    if (opt.step && i > 0) o << px(sx(x)) << ',' << px(sy(s.points[i - 1].second)) << ' ';
    o << px(sx(x)) << ',' << px(sy(y)) << ' ';
  }
  o << "\"/>";
  if (!opt.markers && s.points.size() > 1) return;
  for (const auto& [x, y] : s.points) {
    o << "<circle class=\"dot\" cx=\"" << px(sx(x)) << "\" cy=\"" << px(sy(y))
      << "\" r=\"3.2\" fill=\"" << s.color << "\"><title>" << escape(s.name) << ": "
      << escape(opt.x_label) << ' ' << format_number(x) << ", " << escape(opt.y_label) << ' '
      << format_number(y) << "</title></circle>";
  }
}

}  // namespace

std::string line_chart(const std::vector<Series>& series, const ChartOptions& opt) {
  double x0, x1, y0, y1;
  if (!extent(series, x0, x1, y0, y1)) return "";
  if (opt.y_from_zero) y0 = std::min(y0, 0.0);
  const Axis ax = nice_axis(x0, x1, 8), ay = nice_axis(y0, y1, 5);
  const Frame f;
  const Scale sx{ax.lo, ax.hi, f.left, opt.width - f.right};
  const Scale sy{ay.lo, ay.hi, opt.height - f.bottom, f.top};
  std::ostringstream o;
  o << "<svg class=\"chart\"";
  if (!opt.id.empty()) o << " id=\"" << escape(opt.id) << "\"";
  o << " viewBox=\"0 0 " << opt.width << ' ' << opt.height << "\" width=\"" << opt.width
    << "\" height=\"" << opt.height << "\" role=\"img\" aria-label=\"" << escape(opt.y_label)
    << " vs " << escape(opt.x_label) << "\">";
  draw_axes(o, ax, ay, sx, sy, opt, f);
  for (const Series& s : series) {
    if (!s.points.empty()) draw_series(o, s, sx, sy, opt);
  }
  o << "</svg>";
  return o.str();
}

std::string legend(const std::vector<Series>& series) {
  std::ostringstream o;
  o << "<ul class=\"legend\">";
  for (const Series& s : series) {
    if (s.points.empty()) continue;
    o << "<li><span class=\"swatch\" style=\"background:" << s.color << "\"></span>"
      << escape(s.name) << "</li>";
  }
  o << "</ul>";
  return o.str();
}

std::string interval_mark(const Axis& axis, double value, double low, double high,
                          bool has_interval, const std::string& color, int width) {
  const Scale s{axis.lo, axis.hi, 8, width - 8.0};
  const double clamp_lo = axis.lo, clamp_hi = axis.hi;
  auto at = [&](double v) { return px(s(std::clamp(v, clamp_lo, clamp_hi))); };
  std::ostringstream o;
  o << "<svg class=\"mark\" viewBox=\"0 0 " << width << " 22\" width=\"" << width
    << "\" height=\"22\">";
  for (double t : axis.ticks) {
    o << "<line class=\"grid\" x1=\"" << at(t) << "\" x2=\"" << at(t) << "\" y1=\"0\" y2=\"22\"/>";
  }
  if (has_interval) {
    o << "<line class=\"whisker\" stroke=\"" << color << "\" x1=\"" << at(low) << "\" x2=\""
      << at(high) << "\" y1=\"11\" y2=\"11\"/>";
    for (double v : {low, high}) {
      o << "<line class=\"whisker\" stroke=\"" << color << "\" x1=\"" << at(v) << "\" x2=\""
        << at(v) << "\" y1=\"6\" y2=\"16\"/>";
    }
  }
  o << "<circle cx=\"" << at(value) << "\" cy=\"11\" r=\"4.5\" fill=\"" << color << "\"/></svg>";
  return o.str();
}

std::string axis_strip(const Axis& axis, int width) {
  const Scale s{axis.lo, axis.hi, 8, width - 8.0};
  std::ostringstream o;
  o << "<svg class=\"mark\" viewBox=\"0 0 " << width << " 18\" width=\"" << width
    << "\" height=\"18\">";
  for (double t : axis.ticks) {
    o << "<text class=\"tick\" x=\"" << px(s(t)) << "\" y=\"13\" text-anchor=\"middle\">"
      << format_tick(t, axis.step) << "</text>";
  }
  o << "</svg>";
  return o.str();
}

}  // namespace ptune::report::detail
