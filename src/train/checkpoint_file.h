// A trainer checkpoint's content without libtorch: the metadata it writes, and a reader that
// checks every field of an untrusted file against the resuming run before anything is used
// (fuzzed by fuzz/checkpoint_fuzz.cpp). The file layout is documented in
// include/ptune/train/trainer.h; Trainer::save_checkpoint / resume move tensors in and out.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ptune/io/safetensors.h"

namespace ptune::train::checkpoint {

inline constexpr const char* kFormat = "ptune-train-checkpoint";
inline constexpr const char* kVersion = "2";
inline constexpr const char* kSettingPrefix = "setting.";

// The trainer's progress and the run's totals, as saved.
struct Counters {
  int64_t step = 0;
  bool has_best = false;
  double best_metric = 0.0;
  int64_t best_step = 0;
  int64_t evals_since_best = 0;
  bool stopped = false;
  int64_t log_bytes = 0;  // length of the metrics log at the checkpoint
  double train_seconds = 0.0;
  int64_t train_examples = 0;
  double run_seconds = 0.0;
};

// What the resuming run allows.
struct Expected {
  std::map<std::string, std::string> settings;  // Trainer::settings() now
  std::vector<std::vector<int64_t>> shapes;     // one per parameter
  int64_t total_steps = 0;                      // step <= total_steps
  int64_t examples_per_step = 1;                // train_examples <= step * examples_per_step
  bool keep_best = false;                       // best.<i> tensors present iff has_best too
};

// Per parameter i (Expected::shapes order), row-major float32 values; `best` is empty when the
// checkpoint keeps no best parameters.
struct Tensors {
  std::vector<std::vector<float>> param, exp_avg, exp_avg_sq, best;
};

struct Content {
  Counters counters;
  Tensors tensors;
};

// "%.17g": a double that reads back to the same bits.
std::string format_double(double x);

// The metadata of a checkpoint with these counters and settings (every setting as
// "setting.<name>").
std::map<std::string, std::string> metadata(const Counters& c,
                                            const std::map<std::string, std::string>& settings);

// Throws std::runtime_error naming every setting (up to 16, then a count) whose value in
// `metadata` differs from `now`, or that only one side has, with both values.
void check_settings(const std::map<std::string, std::string>& metadata,
                    const std::map<std::string, std::string>& now);

// Reads and checks `f`: format and version, the settings, every counter parsed whole and in
// range (a step of -1 or past total_steps, a best_step after the step, ...), every tensor
// present with its parameter's shape and finite, second moments >= 0. Throws
// std::runtime_error naming the field or tensor and the value.
Content read(const safetensors::File& f, const Expected& expected);

}  // namespace ptune::train::checkpoint
