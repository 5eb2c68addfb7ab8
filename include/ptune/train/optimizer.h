// AdamW, learning-rate schedules and global-norm gradient clipping for a flat list of trainable
// tensors (the soft prompt, an encoder's weights, prefix keys/values).
//
// AdamW is written out in plain tensor ops rather than taken from torch::optim: the state is two
// moment tensors per parameter plus the step count, which a checkpoint saves and restores
// exactly, with no dependence on torch::optim's serialization (its archive format and per-param
// state keys differ between libtorch 1.13 and 2.x). The update is PyTorch's AdamW
// (torch.optim.AdamW, amsgrad=False, the non-fused path):
//   p <- p * (1 - lr * wd)                       (decoupled weight decay)
//   m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
//   p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ptune::train {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // PEFT's prompt-learning examples use 0
};

class AdamW {
 public:
  // `params` are leaf tensors that require grad (float32); the optimizer keeps references to
  // them and updates them in place.
  AdamW(std::vector<torch::Tensor> params, AdamWOptions opts = {});

  // One update with learning rate `lr` from the gradients in p.grad() (a parameter without a
  // gradient is skipped, as in PyTorch). Increments step().
  void step(double lr);
  // Sets every gradient to zero (keeps the gradient tensors allocated).
  void zero_grad();

  int64_t step_count() const { return step_; }
  const std::vector<torch::Tensor>& params() const { return params_; }
  // First and second moments, one per parameter, same shapes (checkpointing).
  const std::vector<torch::Tensor>& exp_avg() const { return m_; }
  const std::vector<torch::Tensor>& exp_avg_sq() const { return v_; }
  // Restores the state saved from exp_avg()/exp_avg_sq()/step_count(); throws
  // std::invalid_argument when counts or shapes differ from the parameters.
  void load_state(const std::vector<torch::Tensor>& exp_avg,
                  const std::vector<torch::Tensor>& exp_avg_sq, int64_t step);

 private:
  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> m_, v_;
  AdamWOptions opts_;
  int64_t step_ = 0;
};

enum class Schedule { Constant, Linear, Cosine };
const char* schedule_name(Schedule s);  // "constant", "linear", "cosine"
// Throws std::invalid_argument for an unknown name.
Schedule schedule_from_name(const std::string& name);

// Learning rate for optimizer step `step` (0-based) of `total` steps, as transformers'
// get_{constant,linear,cosine}_schedule_with_warmup: lr * step / warmup during warmup, then
// constant, or decaying linearly / by half a cosine to 0 at `total`.
double lr_at(Schedule schedule, double lr, int64_t step, int64_t warmup, int64_t total);

// Global L2 norm of all gradients (parameters without a gradient are skipped). When max_norm > 0
// and the norm exceeds it, every gradient is scaled by max_norm / (norm + 1e-6), as
// torch.nn.utils.clip_grad_norm_. Returns the norm before clipping.
double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace ptune::train
