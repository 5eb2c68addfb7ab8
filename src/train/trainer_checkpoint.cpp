// Trainer checkpoints: the settings fingerprint, writing, and resuming with every field
// checked before any state changes. Format in include/ptune/train/trainer.h.
#include "ptune/train/trainer.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include "digest.h"
#include "ptune/io/safetensors.h"

namespace ptune::train {
namespace {

constexpr const char* kFormat = "ptune-train-checkpoint";
constexpr const char* kVersion = "2";
constexpr const char* kSettingPrefix = "setting.";

std::string fmt_double(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

safetensors::Tensor to_safetensors(const std::string& name, const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  std::vector<float> values(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  std::vector<uint64_t> shape;
  for (int64_t d : c.sizes()) shape.push_back(static_cast<uint64_t>(d));
  return safetensors::make_f32(name, std::move(shape), values);
}

torch::Tensor from_safetensors(const safetensors::File& f, const std::string& name,
                               const torch::Tensor& like) {
  const safetensors::Tensor& t = f.get(name);
  std::vector<int64_t> shape(t.shape.begin(), t.shape.end());
  if (!like.sizes().equals(shape))
    throw std::runtime_error("tensor " + name + " has another shape than the parameter");
  std::vector<float> values = t.to_float();
  return torch::from_blob(values.data(), shape, torch::kFloat32).clone().to(like.device());
}

const std::string& meta(const safetensors::File& f, const std::string& key) {
  auto it = f.metadata.find(key);
  if (it == f.metadata.end()) throw std::runtime_error("metadata key '" + key + "' missing");
  return it->second;
}

// A metadata value for a message, cut short (a hostile file may hold megabytes).
std::string clipped(const std::string& v) {
  return v.size() > 40 ? v.substr(0, 40) + "..." : v;
}
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
                             (std::isfinite(lo) ? " >= " + fmt_double(lo) : std::string()) +
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

// A checkpoint tensor as the parameter's, refusing NaN and infinities (a corrupt or edited file
// would otherwise train on silently); second moments must also be >= 0.
torch::Tensor checked_tensor(const safetensors::File& f, const std::string& name,
                             const torch::Tensor& like, bool non_negative = false) {
  torch::Tensor t = from_safetensors(f, name, like);
  if (!torch::isfinite(t).all().item<bool>())
    throw std::runtime_error("tensor " + name + " holds NaN or infinite values");
  if (non_negative && (t < 0).any().item<bool>())
    throw std::runtime_error("tensor " + name + " holds negative values");
  return t;
}

}  // namespace

std::map<std::string, std::string> Trainer::settings() const {
  const TrainOptions& o = opts_;
  auto flag = [](bool b) -> std::string { return b ? "true" : "false"; };
  std::map<std::string, std::string> s = {
      {"batch_size", std::to_string(o.batch_size)},
      {"accumulation", std::to_string(o.accumulation)},
      {"max_steps", std::to_string(o.max_steps)},
      // Epochs count only when max_steps does not decide the length.
      {"epochs", o.max_steps > 0 ? "(max_steps)" : std::to_string(o.epochs)},
      {"drop_last", flag(o.drop_last)},
      {"lr", fmt_double(o.lr)},
      {"warmup_steps", std::to_string(o.warmup_steps)},
      {"schedule", schedule_name(o.schedule)},
      {"weight_decay", fmt_double(o.adam.weight_decay)},
      {"adam_beta1", fmt_double(o.adam.beta1)},
      {"adam_beta2", fmt_double(o.adam.beta2)},
      {"adam_eps", fmt_double(o.adam.eps)},
      {"max_grad_norm", fmt_double(o.max_grad_norm)},
      {"eval_every", std::to_string(o.eval_every)},
      {"higher_is_better", flag(o.higher_is_better)},
      {"patience", std::to_string(o.patience)},
      {"keep_best", flag(o.keep_best)},
      {"seed", std::to_string(o.seed)},
      {"deterministic", flag(o.deterministic)},
      {"num_examples", std::to_string(num_examples_)},
      {"num_params", std::to_string(params_.size())},
      {"length_grouping", lengths_.empty() ? "off" : "on " + Digest().add(lengths_).hex()},
  };
  for (const auto& [name, value] : o.fingerprint) {
    if (name.empty() || !s.emplace(name, value).second)
      throw std::invalid_argument("TrainOptions::fingerprint: '" + name +
                                  "' is a trainer setting's name (or empty)");
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

void Trainer::save_checkpoint(const std::string& path) const {
  std::vector<safetensors::Tensor> tensors;
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string n = std::to_string(i);
    tensors.push_back(to_safetensors("param." + n, params_[i]));
    tensors.push_back(to_safetensors("exp_avg." + n, opt_.exp_avg()[i]));
    tensors.push_back(to_safetensors("exp_avg_sq." + n, opt_.exp_avg_sq()[i]));
    if (!best_.empty()) tensors.push_back(to_safetensors("best." + n, best_[i]));
  }
  uint64_t log_bytes = 0;
  if (!opts_.metrics_path.empty() && std::filesystem::exists(opts_.metrics_path))
    log_bytes = std::filesystem::file_size(opts_.metrics_path);
  std::map<std::string, std::string> m = {
      {"format", kFormat},
      {"version", kVersion},
      {"step", std::to_string(step())},
      {"has_best", has_best_ ? "1" : "0"},
      {"best_metric", fmt_double(best_metric_)},
      {"best_step", std::to_string(best_step_)},
      {"evals_since_best", std::to_string(evals_since_best_)},
      {"stopped", stopped_ ? "1" : "0"},
      {"log_bytes", std::to_string(log_bytes)},
      {"train_seconds", fmt_double(train_seconds_)},
      {"train_examples", std::to_string(train_examples_)},
      {"run_seconds", fmt_double(run_seconds())},
  };
  for (const auto& [name, value] : settings()) m[kSettingPrefix + name] = value;
  safetensors::write_file(path, tensors, m);
}

void Trainer::check_settings(const std::map<std::string, std::string>& metadata) const {
  std::map<std::string, std::string> had;
  const std::string prefix = kSettingPrefix;
  for (const auto& [key, value] : metadata)
    if (key.rfind(prefix, 0) == 0) had[key.substr(prefix.size())] = value;
  const std::map<std::string, std::string> now = settings();
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

bool Trainer::resume(const std::string& path) {
  if (!std::filesystem::exists(path)) return false;
  try {
    safetensors::File f = safetensors::read_file(path);
    if (meta(f, "format") != kFormat)
      throw std::runtime_error("not a ptune training checkpoint (format " +
                               shown(meta(f, "format")) + ")");
    if (meta(f, "version") != kVersion) {
      throw std::runtime_error("checkpoint version " + shown(meta(f, "version")) +
                               ", this ptune reads version " + kVersion +
                               " only (version 1 kept no run settings); start again without it");
    }
    check_settings(f.metadata);
    // Every field parsed and range-checked before any state changes.
    const int64_t step = meta_int(f, "step", 0, total_steps());
    const bool has_best = meta_flag(f, "has_best");
    const double best_metric = meta_number(f, "best_metric", -INFINITY);
    const int64_t best_step = meta_int(f, "best_step", has_best ? 1 : 0, has_best ? step : 0);
    const int64_t evals_since_best =
        meta_int(f, "evals_since_best", 0, std::min<int64_t>(step, INT_MAX));
    const bool stopped = meta_flag(f, "stopped");
    const int64_t log_bytes = meta_int(f, "log_bytes", 0, INT64_MAX);
    const double train_seconds = meta_number(f, "train_seconds", 0.0);
    const int64_t per_step = std::min(opts_.batch_size, num_examples_);
    const int64_t train_examples =
        meta_int(f, "train_examples", 0, step > INT64_MAX / per_step ? INT64_MAX : step * per_step);
    const double run_seconds = meta_number(f, "run_seconds", 0.0);
    const bool with_best = f.find("best.0") != nullptr;
    if (with_best != (has_best && opts_.keep_best)) {
      throw std::runtime_error(std::string(with_best ? "holds" : "lacks") +
                               " best-parameter tensors, but has_best is " +
                               (has_best ? "1" : "0"));
    }
    if (!opts_.metrics_path.empty() &&
        (!std::filesystem::exists(opts_.metrics_path) ||
         std::filesystem::file_size(opts_.metrics_path) < static_cast<uint64_t>(log_bytes))) {
      throw std::runtime_error("metrics log " + opts_.metrics_path +
                               " is shorter than at the checkpoint (log_bytes " +
                               shown(meta(f, "log_bytes")) + ")");
    }
    std::vector<torch::Tensor> values, m, v, best;
    for (size_t i = 0; i < params_.size(); ++i) {
      const std::string n = std::to_string(i);
      values.push_back(checked_tensor(f, "param." + n, params_[i]));
      m.push_back(checked_tensor(f, "exp_avg." + n, params_[i]));
      v.push_back(checked_tensor(f, "exp_avg_sq." + n, params_[i], /*non_negative=*/true));
      if (with_best) best.push_back(checked_tensor(f, "best." + n, params_[i]));
    }
    // Everything parsed: now change state.
    {
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < params_.size(); ++i) params_[i].copy_(values[i]);
    }
    opt_.load_state(m, v, step);
    best_ = std::move(best);
    has_best_ = has_best;
    best_metric_ = best_metric;
    best_step_ = best_step;
    evals_since_best_ = static_cast<int>(evals_since_best);
    stopped_ = stopped;
    train_seconds_ = train_seconds;
    train_examples_ = train_examples;
    resumed_seconds_ = run_seconds;
    resumed_step_ = step;
    if (!opts_.metrics_path.empty())
      std::filesystem::resize_file(opts_.metrics_path, static_cast<uint64_t>(log_bytes));
  } catch (const std::exception& e) {
    throw std::runtime_error("resuming from checkpoint " + path + ": " + e.what());
  }
  resumed_ = true;
  return true;
}

}  // namespace ptune::train
