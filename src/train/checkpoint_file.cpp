// Checkpoint metadata and its checked reader; contract in checkpoint_file.h.
#include "checkpoint_file.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>

#include "ptune/util/errors.h"

namespace ptune::train::checkpoint {
namespace {

const std::string& meta(const safetensors::File& f, const std::string& key) {
  auto it = f.metadata.find(key);
  if (it == f.metadata.end()) throw std::runtime_error("metadata key '" + key + "' missing");
  return it->second;
}

using util::clipped;  // a metadata value for a message (a hostile file may hold megabytes)

std::string shown(const std::string& v) {
  return "'" + clipped(v) + "'";
}

// Metadata integers and numbers are parsed whole (no sign games, no trailing text) and checked
// against the range the state allows: a step of -1 or 999999 would index past the data.
int64_t meta_int(const safetensors::File& f, const std::string& key, int64_t lo, int64_t hi) {
  const std::string& v = meta(f, key);
  int64_t x = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || x < lo || x > hi) {
    throw std::runtime_error("metadata '" + key + "' must be an integer in [" + std::to_string(lo) +
                             ", " + std::to_string(hi) + "], got " + shown(v));
  }
  return x;
}

double meta_number(const safetensors::File& f, const std::string& key, double lo) {
  const std::string& v = meta(f, key);
  double x = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(x) || x < lo) {
    throw std::runtime_error("metadata '" + key + "' must be a finite number" +
                             (std::isfinite(lo) ? " >= " + format_double(lo) : std::string()) +
                             ", got " + shown(v));
  }
  return x;
}

bool meta_flag(const safetensors::File& f, const std::string& key) {
  const std::string& v = meta(f, key);
  if (v != "0" && v != "1")
    throw std::runtime_error("metadata '" + key + "' must be 0 or 1, got " + shown(v));
  return v == "1";
}

std::string shape_text(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Tensor `name` as float32 values of `shape`, refusing NaN and infinities (a corrupt or edited
// file would otherwise train on silently); second moments must also be >= 0.
std::vector<float> checked_tensor(const safetensors::File& f, const std::string& name,
                                  const std::vector<int64_t>& shape, bool non_negative = false) {
  const safetensors::Tensor* t = f.find(name);
  if (t == nullptr) throw std::runtime_error("tensor " + name + " missing");
  const std::vector<int64_t> has(t->shape.begin(), t->shape.end());
  if (has != shape) {
    throw std::runtime_error("tensor " + name + " has shape " + shape_text(has) +
                             ", the parameter " + shape_text(shape));
  }
  std::vector<float> values = t->to_float();
  for (float x : values) {
    if (!std::isfinite(x))
      throw std::runtime_error("tensor " + name + " holds NaN or infinite values");
    if (non_negative && x < 0)
      throw std::runtime_error("tensor " + name + " holds negative values");
  }
  return values;
}

Counters read_counters(const safetensors::File& f, const Expected& e) {
  Counters c;
  c.step = meta_int(f, "step", 0, e.total_steps);
  c.has_best = meta_flag(f, "has_best");
  c.best_metric = meta_number(f, "best_metric", -INFINITY);
  c.best_step = meta_int(f, "best_step", c.has_best ? 1 : 0, c.has_best ? c.step : 0);
  c.evals_since_best = meta_int(f, "evals_since_best", 0, std::min<int64_t>(c.step, INT_MAX));
  c.stopped = meta_flag(f, "stopped");
  c.log_bytes = meta_int(f, "log_bytes", 0, INT64_MAX);
  c.train_seconds = meta_number(f, "train_seconds", 0.0);
  const int64_t per_step = std::max<int64_t>(e.examples_per_step, 1);
  c.train_examples = meta_int(f, "train_examples", 0,
                              c.step > INT64_MAX / per_step ? INT64_MAX : c.step * per_step);
  c.run_seconds = meta_number(f, "run_seconds", 0.0);
  return c;
}

}  // namespace

std::string format_double(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

std::map<std::string, std::string> metadata(const Counters& c,
                                            const std::map<std::string, std::string>& settings) {
  auto flag = [](bool b) -> std::string { return b ? "1" : "0"; };
  std::map<std::string, std::string> m = {
      {"format", kFormat},
      {"version", kVersion},
      {"step", std::to_string(c.step)},
      {"has_best", flag(c.has_best)},
      {"best_metric", format_double(c.best_metric)},
      {"best_step", std::to_string(c.best_step)},
      {"evals_since_best", std::to_string(c.evals_since_best)},
      {"stopped", flag(c.stopped)},
      {"log_bytes", std::to_string(c.log_bytes)},
      {"train_seconds", format_double(c.train_seconds)},
      {"train_examples", std::to_string(c.train_examples)},
      {"run_seconds", format_double(c.run_seconds)},
  };
  for (const auto& [name, value] : settings) m[kSettingPrefix + name] = value;
  return m;
}

void check_settings(const std::map<std::string, std::string>& metadata,
                    const std::map<std::string, std::string>& now) {
  std::map<std::string, std::string> had;
  const std::string prefix = kSettingPrefix;
  for (const auto& [key, value] : metadata)
    if (key.rfind(prefix, 0) == 0) had[key.substr(prefix.size())] = value;
  std::set<std::string> names;
  for (const auto& kv : had) names.insert(kv.first);
  for (const auto& kv : now) names.insert(kv.first);
  auto value_of = [](const std::map<std::string, std::string>& m, const std::string& n) {
    const auto it = m.find(n);
    return it == m.end() ? std::string("(none)") : clipped(it->second);
  };
  std::string diff;
  int differing = 0;
  constexpr int kShown = 16;  // a hostile file may differ in thousands of made-up names
  for (const std::string& n : names) {
    const auto a = now.find(n);
    const auto b = had.find(n);
    if (a != now.end() && b != had.end() && a->second == b->second) continue;
    if (++differing > kShown) continue;
    diff += (diff.empty() ? "" : ", ") + clipped(n) + " " + value_of(now, n) +
            " (checkpoint: " + value_of(had, n) + ")";
  }
  if (differing > kShown) diff += " and " + std::to_string(differing - kShown) + " more";
  if (!diff.empty()) {
    throw std::runtime_error("it was written with other settings: " + diff +
                             "; resume with the checkpoint's settings, or start again without it");
  }
}

Content read(const safetensors::File& f, const Expected& e) {
  if (meta(f, "format") != kFormat)
    throw std::runtime_error("not a ptune training checkpoint (format " + shown(meta(f, "format")) +
                             ")");
  if (meta(f, "version") != kVersion) {
    throw std::runtime_error("checkpoint version " + shown(meta(f, "version")) +
                             ", this ptune reads version " + kVersion +
                             " only (version 1 kept no run settings); start again without it");
  }
  check_settings(f.metadata, e.settings);
  Content c;
  c.counters = read_counters(f, e);
  const bool with_best = f.find("best.0") != nullptr;
  if (with_best != (c.counters.has_best && e.keep_best)) {
    throw std::runtime_error(std::string(with_best ? "holds" : "lacks") +
                             " best-parameter tensors, but has_best is " +
                             (c.counters.has_best ? "1" : "0"));
  }
  Tensors& t = c.tensors;
  for (size_t i = 0; i < e.shapes.size(); ++i) {
    const std::string n = std::to_string(i);
    t.param.push_back(checked_tensor(f, "param." + n, e.shapes[i]));
    t.exp_avg.push_back(checked_tensor(f, "exp_avg." + n, e.shapes[i]));
    t.exp_avg_sq.push_back(checked_tensor(f, "exp_avg_sq." + n, e.shapes[i], true));
    if (with_best) t.best.push_back(checked_tensor(f, "best." + n, e.shapes[i]));
  }
  return c;
}

}  // namespace ptune::train::checkpoint
