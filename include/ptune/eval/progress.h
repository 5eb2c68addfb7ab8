// Progress reporting for long evaluations: a redrawn bar with rate and ETA on a terminal, plain
// periodic lines otherwise (logs, CI), nothing when disabled.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace ptune::eval {

class Progress {
 public:
  enum class Mode { Auto, Bar, Lines, Off };  // Auto: Bar when `out` is a TTY, else Lines

  Progress(FILE* out = stderr, Mode mode = Mode::Auto);
  // Starts a stage ("scoring", "generating", ...) of `total` units named `unit`.
  void start(const std::string& stage, size_t total, const std::string& unit = "ex");
  // Reports `done` units finished (absolute, not an increment).
  void update(size_t done);
  // Ends the stage with a final line.
  void finish();

  // "1:05", "12:03:09"; "?" for a negative or non-finite value (exposed for tests).
  static std::string format_duration(double seconds);
  // The bar line for a state (exposed for tests); width = bar characters.
  static std::string render_bar(const std::string& stage, size_t done, size_t total,
                                double elapsed_s, const std::string& unit, int width = 30);

 private:
  FILE* out_;
  Mode mode_;
  std::string stage_, unit_;
  size_t total_ = 0, done_ = 0;
  std::chrono::steady_clock::time_point t0_, last_;
  bool active_ = false;
};

}  // namespace ptune::eval
