#include "ptune/train/optimizer.h"

#include <cmath>
#include <stdexcept>

namespace ptune::train {

// ---------------------------------------------------------------------------------------------
// AdamW

AdamW::AdamW(std::vector<torch::Tensor> params, AdamWOptions opts)
    : params_(std::move(params)), opts_(opts) {
  for (size_t i = 0; i < params_.size(); ++i) {
    const torch::Tensor& p = params_[i];
    if (!p.defined() || !p.requires_grad() || !p.is_leaf())
      throw std::invalid_argument("AdamW: parameter " + std::to_string(i) +
                                  " is not a leaf tensor that requires grad");
    m_.push_back(torch::zeros_like(p));
    v_.push_back(torch::zeros_like(p));
  }
}

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  ++step_;
  const double b1 = opts_.beta1, b2 = opts_.beta2;
  const double bc1 = 1.0 - std::pow(b1, static_cast<double>(step_));
  const double bc2 = 1.0 - std::pow(b2, static_cast<double>(step_));
  const double step_size = lr / bc1;
  const double bc2_sqrt = std::sqrt(bc2);
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& p = params_[i];
    const torch::Tensor& g = p.grad();
    if (!g.defined()) continue;
    if (opts_.weight_decay != 0.0) p.mul_(1.0 - lr * opts_.weight_decay);
    m_[i].mul_(b1).add_(g, 1.0 - b1);
    v_[i].mul_(b2).addcmul_(g, g, 1.0 - b2);
    torch::Tensor denom = (v_[i].sqrt() / bc2_sqrt).add_(opts_.eps);
    p.addcdiv_(m_[i], denom, -step_size);
  }
}

void AdamW::zero_grad() {
  torch::NoGradGuard no_grad;
  for (torch::Tensor& p : params_)
    if (p.grad().defined()) p.mutable_grad().zero_();
}

void AdamW::load_state(const std::vector<torch::Tensor>& exp_avg,
                       const std::vector<torch::Tensor>& exp_avg_sq, int64_t step) {
  if (exp_avg.size() != params_.size() || exp_avg_sq.size() != params_.size())
    throw std::invalid_argument("AdamW::load_state: " + std::to_string(exp_avg.size()) +
                                " moments for " + std::to_string(params_.size()) + " parameters");
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!exp_avg[i].sizes().equals(params_[i].sizes()) ||
        !exp_avg_sq[i].sizes().equals(params_[i].sizes()))
      throw std::invalid_argument("AdamW::load_state: moment shape differs for parameter " +
                                  std::to_string(i));
    m_[i].copy_(exp_avg[i]);
    v_[i].copy_(exp_avg_sq[i]);
  }
  step_ = step;
}

// ---------------------------------------------------------------------------------------------
// Schedules

const char* schedule_name(Schedule s) {
  switch (s) {
    case Schedule::Constant: return "constant";
    case Schedule::Linear: return "linear";
    case Schedule::Cosine: return "cosine";
  }
  return "?";
}

Schedule schedule_from_name(const std::string& name) {
  for (Schedule s : {Schedule::Constant, Schedule::Linear, Schedule::Cosine})
    if (name == schedule_name(s)) return s;
  throw std::invalid_argument("unknown learning-rate schedule '" + name +
                              "' (expected constant, linear or cosine)");
}

double lr_at(Schedule schedule, double lr, int64_t step, int64_t warmup, int64_t total) {
  if (step < warmup) return lr * static_cast<double>(step) / static_cast<double>(warmup);
  if (schedule == Schedule::Constant) return lr;
  const int64_t decay = total - warmup;
  if (decay <= 0) return 0.0;
  const double progress = static_cast<double>(step - warmup) / static_cast<double>(decay);
  if (progress >= 1.0) return 0.0;
  if (schedule == Schedule::Linear) return lr * (1.0 - progress);
  return lr * 0.5 * (1.0 + std::cos(M_PI * progress));
}

// ---------------------------------------------------------------------------------------------
// Clipping

double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  double sq = 0.0;
  for (const torch::Tensor& p : params) {
    const torch::Tensor& g = p.grad();
    if (!g.defined()) continue;
    sq += g.to(torch::kFloat64).pow(2).sum().item<double>();
  }
  const double norm = std::sqrt(sq);
  if (max_norm > 0.0 && norm > max_norm) {
    const double scale = max_norm / (norm + 1e-6);
    for (const torch::Tensor& p : params)
      if (p.grad().defined()) p.grad().mul_(scale);
  }
  return norm;
}

}  // namespace ptune::train
