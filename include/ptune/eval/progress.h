// Progress reporting for every long command (eval's scoring and generation, tune's steps): a
// redrawn bar with rate and ETA on a terminal, plain periodic lines otherwise (logs, CI), nothing
// when disabled. One class, so every command's progress reads the same.
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
  // Starts a stage ("scoring", "generating", "train", ...) of `total` units named `unit`;
  // `initial` units were done before (a resumed run), so rate and ETA count from there.
  void start(const std::string& stage, size_t total, const std::string& unit = "ex",
             size_t initial = 0);
  // Reports `done` units finished (absolute, not an increment), with an optional `detail` shown
  // after the bar ("loss 0.41  lr 3.0e-02"). `keep` prints this state as a line of its own even
  // between the periodic lines (a dev evaluation worth seeing in the log).
  void update(size_t done, const std::string& detail = "", bool keep = false);
  // Ends the stage with a final line.
  void finish();

  // "1:05", "12:03:09"; "?" for a negative or non-finite value (exposed for tests).
  static std::string format_duration(double seconds);
  // The bar line for a state (exposed for tests); width = bar characters.
  static std::string render_bar(const std::string& stage, size_t done, size_t total,
                                double elapsed_s, const std::string& unit, int width = 30,
                                size_t initial = 0);

 private:
  FILE* out_;
  Mode mode_;
  std::string line(int width) const;             // the bar for the current state, with the detail
  void print(bool bar_mode, bool keep = false);  // redraw the bar, or print a line

  std::string stage_, unit_, detail_;
  size_t total_ = 0, done_ = 0, initial_ = 0;
  size_t printed_ = 0;  // the `done` of the last line printed (lines mode: no repeated last line)
  std::chrono::steady_clock::time_point t0_, last_;
  bool active_ = false;
};

}  // namespace ptune::eval
