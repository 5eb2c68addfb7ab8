// libFuzzer target for trainer checkpoints: the input parsed as a safetensors file, then
// checkpoint::read against a resuming run (its settings are the file's own, so the counters and
// tensors are reached; a second check against other settings must refuse them). Only
// SafetensorsError and std::runtime_error from the reader may escape; a crash, a sanitizer
// report, another exception, or a read that accepts a value outside the documented ranges
// (step past the run, best_step after step, a non-finite number or tensor value, a negative
// second moment) is a finding.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>

#include "ptune/io/safetensors.h"
#include "train/checkpoint_file.h"

namespace {

namespace ck = ptune::train::checkpoint;
namespace st = ptune::safetensors;

constexpr int64_t kTotalSteps = 100;
constexpr int64_t kPerStep = 4;

// The run the file is resumed into: the settings the file holds, and one parameter per
// "param.<i>" tensor with its shape (so shape checks pass and values are read).
ck::Expected expected_from(const st::File& f, bool keep_best) {
  ck::Expected e;
  const std::string prefix = ck::kSettingPrefix;
  for (const auto& [key, value] : f.metadata)
    if (key.rfind(prefix, 0) == 0) e.settings[key.substr(prefix.size())] = value;
  for (int i = 0; i < 4; ++i) {
    const st::Tensor* t = f.find("param." + std::to_string(i));
    if (t == nullptr) break;
    e.shapes.emplace_back(t->shape.begin(), t->shape.end());
  }
  e.total_steps = kTotalSteps;
  e.examples_per_step = kPerStep;
  e.keep_best = keep_best;
  return e;
}

void check_content(const ck::Content& c, const ck::Expected& e) {
  const ck::Counters& k = c.counters;
  if (k.step < 0 || k.step > e.total_steps) std::abort();
  if (k.has_best ? (k.best_step < 1 || k.best_step > k.step) : k.best_step != 0) std::abort();
  if (k.evals_since_best < 0 || k.evals_since_best > k.step) std::abort();
  if (k.log_bytes < 0 || k.train_examples < 0 || k.train_examples > k.step * kPerStep) std::abort();
  if (!std::isfinite(k.best_metric) || !(k.train_seconds >= 0) || !(k.run_seconds >= 0))
    std::abort();
  const auto& t = c.tensors;
  if (t.param.size() != e.shapes.size() || t.exp_avg.size() != e.shapes.size() ||
      t.exp_avg_sq.size() != e.shapes.size())
    std::abort();
  if (!t.best.empty() && t.best.size() != e.shapes.size()) std::abort();
  for (size_t i = 0; i < e.shapes.size(); ++i) {
    size_t n = 1;
    for (int64_t d : e.shapes[i]) n *= static_cast<size_t>(d);
    if (t.param[i].size() != n || t.exp_avg[i].size() != n || t.exp_avg_sq[i].size() != n)
      std::abort();
    for (float v : t.exp_avg_sq[i])
      if (!std::isfinite(v) || v < 0) std::abort();
    for (float v : t.param[i])
      if (!std::isfinite(v)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  st::File f;
  try {
    f = st::parse(data, size);
  } catch (const st::SafetensorsError&) {
    return 0;
  }
  for (bool keep_best : {true, false}) {
    const ck::Expected e = expected_from(f, keep_best);
    try {
      check_content(ck::read(f, e), e);
    } catch (const std::runtime_error&) {
    }
  }
  // Settings that differ from the file's are refused, never accepted.
  const std::map<std::string, std::string> other = {{"lr", "0.5"}, {"seed", "-1"}};
  const bool same = expected_from(f, false).settings == other;
  try {
    ck::check_settings(f.metadata, other);
    if (!same) std::abort();
  } catch (const std::runtime_error&) {
    if (same) std::abort();
  }
  return 0;
}
