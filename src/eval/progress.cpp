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
                                 double elapsed, const std::string& unit, int width) {
  const double frac = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const int fill = static_cast<int>(frac * width);
  std::string bar(static_cast<size_t>(fill), '#');
  bar.resize(static_cast<size_t>(width), '.');
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : -1.0;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s [%s] %zu/%zu %3.0f%% %.1f %s/s elapsed %s ETA %s",
                stage.c_str(), bar.c_str(), done, total, 100 * frac, rate, unit.c_str(),
                format_duration(elapsed).c_str(), format_duration(eta).c_str());
  return buf;
}

void Progress::start(const std::string& stage, size_t total, const std::string& unit) {
  stage_ = stage;
  unit_ = unit;
  total_ = total;
  done_ = 0;
  t0_ = last_ = std::chrono::steady_clock::now();
  active_ = true;
  if (mode_ == Mode::Bar) {
    std::fprintf(out_, "\r%s", render_bar(stage_, 0, total_, 0, unit_).c_str());
    std::fflush(out_);
  }
}

void Progress::update(size_t done) {
  if (!active_ || mode_ == Mode::Off) return;
  done_ = done;
  if (mode_ == Mode::Bar) {
    if (since(last_) < 0.1 && done_ < total_) return;
    std::fprintf(out_, "\r%s\033[K", render_bar(stage_, done_, total_, since(t0_), unit_).c_str());
    std::fflush(out_);
    last_ = std::chrono::steady_clock::now();
  } else if (since(last_) >= 10.0) {  // plain lines: at most one per 10 s
    std::fprintf(out_, "%s\n", render_bar(stage_, done_, total_, since(t0_), unit_, 20).c_str());
    std::fflush(out_);
    last_ = std::chrono::steady_clock::now();
  }
}

void Progress::finish() {
  if (!active_ || mode_ == Mode::Off) return;
  active_ = false;
  const std::string line =
      render_bar(stage_, done_, total_, since(t0_), unit_, mode_ == Mode::Bar ? 30 : 20);
  if (mode_ == Mode::Bar) {
    std::fprintf(out_, "\r%s\033[K\n", line.c_str());
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

}  // namespace ptune::eval
