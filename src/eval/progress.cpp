// Progress bar / periodic progress lines; see include/ptune/eval/progress.h.
#include "ptune/eval/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace ptune::eval {

namespace {
double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

Progress::Progress(FILE* out, Mode mode) : out_(out), mode_(mode) {
  if (mode_ == Mode::Auto) mode_ = out_ && isatty(fileno(out_)) ? Mode::Bar : Mode::Lines;
  if (!out_) mode_ = Mode::Off;
}

std::string Progress::format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  long t = std::lround(s);
  char buf[32];
  if (t >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  }
  return buf;
}

std::string Progress::render_bar(const std::string& stage, size_t done, size_t total,
                                 double elapsed, const std::string& unit, int width,
                                 size_t initial) {
  const double frac = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const int fill = static_cast<int>(frac * width);
  std::string bar(static_cast<size_t>(fill), '#');
  bar.resize(static_cast<size_t>(width), '.');
  const size_t fresh = done > initial ? done - initial : 0;
  const double rate = elapsed > 0 ? static_cast<double>(fresh) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : -1.0;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s [%s] %zu/%zu %3.0f%% %.1f %s/s elapsed %s ETA %s",
                stage.c_str(), bar.c_str(), done, total, 100 * frac, rate, unit.c_str(),
                format_duration(elapsed).c_str(), format_duration(eta).c_str());
  return buf;
}

std::string Progress::line(int width) const {
  std::string s = render_bar(stage_, done_, total_, since(t0_), unit_, width, initial_);
  return detail_.empty() ? s : s + "  " + detail_;
}

// Bar mode redraws the bar in place; a kept line (lines mode, or `keep`) stays, and is
// remembered so that finish() does not print the same state twice.
void Progress::print(bool bar_mode, bool keep) {
  if (bar_mode) {
    std::fprintf(out_, "\r%s\033[K%s", line(30).c_str(), keep ? "\n" : "");
  } else {
    std::fprintf(out_, "%s\n", line(20).c_str());
  }
  if (keep || !bar_mode) printed_ = done_;
  std::fflush(out_);
  last_ = std::chrono::steady_clock::now();
}

void Progress::start(const std::string& stage, size_t total, const std::string& unit,
                     size_t initial) {
  stage_ = stage;
  unit_ = unit;
  total_ = total;
  done_ = initial_ = initial;
  printed_ = static_cast<size_t>(-1);
  detail_.clear();
  t0_ = last_ = std::chrono::steady_clock::now();
  active_ = true;
  if (mode_ == Mode::Bar) print(true);
}

void Progress::update(size_t done, const std::string& detail, bool keep) {
  if (!active_ || mode_ == Mode::Off) return;
  done_ = done;
  detail_ = detail;
  if (mode_ == Mode::Bar) {
    if (keep) {  // the state stays on screen as a line; the bar goes on below it
      print(true, true);
      if (done_ < total_) print(true);
    } else if (since(last_) >= 0.1 || done_ >= total_) {
      print(true);
    }
  } else if (keep || since(last_) >= 10.0) {  // plain lines: at most one per 10 s
    print(false);
  }
}

void Progress::finish() {
  if (!active_ || mode_ == Mode::Off) return;
  active_ = false;
  if (printed_ == done_) {  // the last state is on screen already
    if (mode_ == Mode::Bar) std::fputs("\r\033[K", out_);
  } else {
    print(mode_ == Mode::Bar, true);
  }
  std::fflush(out_);
}

}  // namespace ptune::eval
