// Trainer checkpoints: the settings fingerprint, and moving the state in and out of the file
// whose content checkpoint_file.h reads and checks (format in include/ptune/train/trainer.h).
#include "ptune/train/trainer.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "checkpoint_file.h"
#include "digest.h"
#include "ptune/io/safetensors.h"

namespace ptune::train {
namespace {

using checkpoint::format_double;

safetensors::Tensor to_safetensors(const std::string& name, const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  std::vector<float> values(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  std::vector<uint64_t> shape;
  for (int64_t d : c.sizes()) shape.push_back(static_cast<uint64_t>(d));
  return safetensors::make_f32(name, std::move(shape), values);
}

// Checked values (checkpoint::read) as a tensor like the parameter.
torch::Tensor to_tensor(std::vector<float>& values, const torch::Tensor& like) {
  return torch::from_blob(values.data(), like.sizes(), torch::kFloat32).clone().to(like.device());
}

std::vector<torch::Tensor> to_tensors(std::vector<std::vector<float>>& values,
                                      const std::vector<torch::Tensor>& like) {
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < values.size(); ++i) out.push_back(to_tensor(values[i], like[i]));
  return out;
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
      {"lr", format_double(o.lr)},
      {"warmup_steps", std::to_string(o.warmup_steps)},
      {"schedule", schedule_name(o.schedule)},
      {"weight_decay", format_double(o.adam.weight_decay)},
      {"adam_beta1", format_double(o.adam.beta1)},
      {"adam_beta2", format_double(o.adam.beta2)},
      {"adam_eps", format_double(o.adam.eps)},
      {"max_grad_norm", format_double(o.max_grad_norm)},
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
  checkpoint::Counters c;
  c.step = step();
  c.has_best = has_best_;
  c.best_metric = best_metric_;
  c.best_step = best_step_;
  c.evals_since_best = evals_since_best_;
  c.stopped = stopped_;
  if (!opts_.metrics_path.empty() && std::filesystem::exists(opts_.metrics_path))
    c.log_bytes = static_cast<int64_t>(std::filesystem::file_size(opts_.metrics_path));
  c.train_seconds = train_seconds_;
  c.train_examples = train_examples_;
  c.run_seconds = run_seconds();
  safetensors::write_file(path, tensors, checkpoint::metadata(c, settings()));
}

bool Trainer::resume(const std::string& path) {
  if (!std::filesystem::exists(path)) return false;
  try {
    const safetensors::File f = safetensors::read_file(path);
    checkpoint::Expected e;
    e.settings = settings();
    for (const torch::Tensor& p : params_) e.shapes.emplace_back(p.sizes().vec());
    e.total_steps = total_steps();
    e.examples_per_step = std::min(opts_.batch_size, num_examples_);
    e.keep_best = opts_.keep_best;
    // Every field parsed and range-checked before any state changes.
    checkpoint::Content c = checkpoint::read(f, e);
    const checkpoint::Counters& k = c.counters;
    if (!opts_.metrics_path.empty() &&
        (!std::filesystem::exists(opts_.metrics_path) ||
         std::filesystem::file_size(opts_.metrics_path) < static_cast<uint64_t>(k.log_bytes))) {
      throw std::runtime_error("metrics log " + opts_.metrics_path +
                               " is shorter than at the checkpoint (log_bytes '" +
                               std::to_string(k.log_bytes) + "')");
    }
    const std::vector<torch::Tensor> values = to_tensors(c.tensors.param, params_);
    std::vector<torch::Tensor> m = to_tensors(c.tensors.exp_avg, params_);
    std::vector<torch::Tensor> v = to_tensors(c.tensors.exp_avg_sq, params_);
    std::vector<torch::Tensor> best = to_tensors(c.tensors.best, params_);
    // Everything parsed: now change state.
    {
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < params_.size(); ++i) params_[i].copy_(values[i]);
    }
    opt_.load_state(m, v, k.step);
    best_ = std::move(best);
    has_best_ = k.has_best;
    best_metric_ = k.best_metric;
    best_step_ = k.best_step;
    evals_since_best_ = static_cast<int>(k.evals_since_best);
    stopped_ = k.stopped;
    train_seconds_ = k.train_seconds;
    train_examples_ = k.train_examples;
    resumed_seconds_ = k.run_seconds;
    resumed_step_ = k.step;
    if (!opts_.metrics_path.empty())
      std::filesystem::resize_file(opts_.metrics_path, static_cast<uint64_t>(k.log_bytes));
  } catch (const std::exception& e) {
    throw std::runtime_error("resuming from checkpoint " + path + ": " + e.what());
  }
  resumed_ = true;
  return true;
}

}  // namespace ptune::train
