// The training loop; contract in include/ptune/train/trainer.h (checkpoints in
// trainer_checkpoint.cpp).
#include "ptune/train/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "ptune/util/random.h"

namespace ptune::train {

namespace {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Options

void TrainOptions::validate() const {
  auto bad = [](const std::string& m) { throw std::invalid_argument("train options: " + m); };
  if (batch_size < 1) bad("batch_size must be >= 1");
  if (accumulation < 1) bad("accumulation must be >= 1");
  if (batch_size % accumulation != 0)
    bad("batch_size (" + std::to_string(batch_size) + ") must be a multiple of accumulation (" +
        std::to_string(accumulation) + ")");
  if (max_steps < 0) bad("max_steps must be >= 0");
  if (max_steps == 0 && epochs < 1) bad("epochs must be >= 1 when max_steps is 0");
  if (!(lr >= 0.0) || !std::isfinite(lr)) bad("lr must be a finite number >= 0");
  if (warmup_steps < 0) bad("warmup_steps must be >= 0");
  if (max_grad_norm < 0.0) bad("max_grad_norm must be >= 0");
  if (eval_every < 0) bad("eval_every must be >= 0");
  if (patience < 0) bad("patience must be >= 0");
  if (checkpoint_every < 0) bad("checkpoint_every must be >= 0");
  if (!(adam.beta1 >= 0.0 && adam.beta1 < 1.0)) bad("adam beta1 must be in [0, 1)");
  if (!(adam.beta2 >= 0.0 && adam.beta2 < 1.0)) bad("adam beta2 must be in [0, 1)");
  if (!(adam.eps > 0.0)) bad("adam eps must be > 0");
}

// ---------------------------------------------------------------------------------------------
// Trainer

Trainer::Trainer(std::vector<torch::Tensor> params, LossFn loss, int64_t num_examples,
                 TrainOptions opts)
    : params_(params),
      loss_(std::move(loss)),
      num_examples_(num_examples),
      opts_(std::move(opts)),
      opt_(params, opts_.adam) {
  opts_.validate();
  for (const torch::Tensor& p : params_)
    if (p.scalar_type() != torch::kFloat32)
      throw std::invalid_argument("Trainer: trainable parameters must be float32");
  if (num_examples_ < 1) throw std::invalid_argument("Trainer: no training examples");
  if (steps_per_epoch() < 1)
    throw std::invalid_argument("Trainer: drop_last leaves no batch (" +
                                std::to_string(num_examples_) + " examples, batch size " +
                                std::to_string(opts_.batch_size) + ")");
  if (opts_.deterministic) at::globalContext().setDeterministicAlgorithms(true, false);
  settings();  // refuses fingerprint names that clash with the trainer's own
}

int64_t Trainer::steps_per_epoch() const {
  if (opts_.drop_last) return num_examples_ / opts_.batch_size;
  return (num_examples_ + opts_.batch_size - 1) / opts_.batch_size;
}

int64_t Trainer::total_steps() const {
  return opts_.max_steps > 0 ? opts_.max_steps : opts_.epochs * steps_per_epoch();
}

double Trainer::run_seconds() const {
  return resumed_seconds_ + (run_start_ >= 0 ? now_s() - run_start_ : 0.0);
}

std::vector<int64_t> Trainer::epoch_order(uint64_t seed, int64_t epoch, int64_t num_examples,
                                          const std::vector<int64_t>& lengths, int64_t batch_size) {
  std::vector<int64_t> order(static_cast<size_t>(num_examples));
  for (int64_t i = 0; i < num_examples; ++i) order[static_cast<size_t>(i)] = i;
  util::Rng rng(util::mix_seed(seed, static_cast<uint64_t>(epoch)));
  rng.shuffle(order);
  if (lengths.empty() || batch_size < 2) return order;

  // Length grouping: sort each window of kWindowBatches batches of the shuffled order by length
  // (longest first, ties in shuffled order), cut the result into batches, and shuffle the full
  // batches; a partial batch stays last so every step but the last sees batch_size examples.
  constexpr int64_t kWindowBatches = 16;
  const int64_t window = kWindowBatches * batch_size;
  for (int64_t w = 0; w < num_examples; w += window) {
    std::stable_sort(order.begin() + w, order.begin() + std::min(w + window, num_examples),
                     [&](int64_t a, int64_t b) { return lengths[a] > lengths[b]; });
  }
  std::vector<std::vector<int64_t>> batches;
  const int64_t full = num_examples / batch_size;
  for (int64_t b = 0; b < full; ++b)
    batches.emplace_back(order.begin() + b * batch_size, order.begin() + (b + 1) * batch_size);
  rng.shuffle(batches);
  std::vector<int64_t> out;
  for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
  out.insert(out.end(), order.begin() + full * batch_size, order.end());
  return out;
}

void Trainer::set_lengths(std::vector<int64_t> lengths) {
  if (static_cast<int64_t>(lengths.size()) != num_examples_) {
    throw std::invalid_argument("Trainer: " + std::to_string(lengths.size()) + " lengths for " +
                                std::to_string(num_examples_) + " examples");
  }
  lengths_ = std::move(lengths);
  order_epoch_ = -1;
}

StepLog Trainer::train_step(int64_t step) {
  const int64_t spe = steps_per_epoch();
  const int64_t epoch = step / spe;
  if (order_epoch_ != epoch) {
    order_ = epoch_order(opts_.seed, epoch, num_examples_, lengths_, opts_.batch_size);
    order_epoch_ = epoch;
  }
  const int64_t begin = (step % spe) * opts_.batch_size;
  const int64_t end = std::min(begin + opts_.batch_size, num_examples_);
  const int64_t micro = opts_.batch_size / opts_.accumulation;

  const double t_start = now_s();
  torch::manual_seed(util::mix_seed(opts_.seed ^ 0x5eedULL, static_cast<uint64_t>(step)));
  opt_.zero_grad();
  double loss_sum = 0.0;
  for (int64_t s = begin; s < end; s += micro) {
    Batch mb;
    mb.epoch = epoch;
    mb.step = step;
    mb.indices.assign(order_.begin() + s, order_.begin() + std::min(s + micro, end));
    torch::Tensor loss = loss_(mb);
    if (!loss.defined() || loss.numel() != 1)
      throw std::runtime_error("Trainer: the loss function must return a scalar tensor");
    const double w = static_cast<double>(mb.indices.size()) / static_cast<double>(end - begin);
    const double value = loss.item<double>();
    // A NaN step would poison the parameters and every later step: stop before applying it.
    if (!std::isfinite(value)) {
      throw std::runtime_error("Trainer: step " + std::to_string(step + 1) + ": the loss is " +
                               std::to_string(value) +
                               " (diverged: lower --lr or --max-grad-norm); the parameters and "
                               "the last checkpoint are from before this step");
    }
    (loss * w).backward();
    loss_sum += value * w;
  }

  StepLog rec;
  rec.step = step + 1;
  rec.epoch = epoch;
  rec.loss = loss_sum;
  rec.grad_norm = clip_grad_norm(params_, opts_.max_grad_norm);
  rec.lr = lr_at(opts_.schedule, opts_.lr, step, opts_.warmup_steps, total_steps());
  opt_.step(rec.lr);
  rec.examples = end - begin;
  rec.seconds = now_s() - t_start;
  return rec;
}

bool Trainer::evaluate(StepLog& rec) {
  rec.evaluated = true;
  {
    torch::NoGradGuard no_grad;
    rec.metric = eval_(rec.step);
  }
  const bool improved = !has_best_ || (opts_.higher_is_better ? rec.metric > best_metric_
                                                              : rec.metric < best_metric_);
  if (improved) {
    has_best_ = true;
    best_metric_ = rec.metric;
    best_step_ = rec.step;
    evals_since_best_ = 0;
    if (opts_.keep_best) {
      torch::NoGradGuard no_grad;
      best_.clear();
      for (const torch::Tensor& p : params_) best_.push_back(p.detach().clone());
    }
    return false;
  }
  ++evals_since_best_;
  return opts_.patience > 0 && evals_since_best_ >= opts_.patience;
}

void Trainer::append_log(const StepLog& rec) {
  if (opts_.metrics_path.empty()) return;
  nlohmann::json j;
  j["step"] = rec.step;
  j["epoch"] = rec.epoch;
  j["loss"] = rec.loss;
  j["lr"] = rec.lr;
  j["grad_norm"] = rec.grad_norm;
  if (rec.evaluated) j["eval"] = rec.metric;
  const std::string line = j.dump() + "\n";
  FILE* f = std::fopen(opts_.metrics_path.c_str(), "ab");
  if (!f) throw std::runtime_error("cannot open metrics log " + opts_.metrics_path);
  const bool ok = std::fwrite(line.data(), 1, line.size(), f) == line.size();
  if (std::fclose(f) != 0 || !ok)
    throw std::runtime_error("cannot write metrics log " + opts_.metrics_path);
}

void Trainer::show_progress(const StepLog& rec) {
  char detail[160];
  int n = std::snprintf(detail, sizeof detail, "ep %lld  loss %.4f  lr %.2e  |g| %.3f",
                        static_cast<long long>(rec.epoch), rec.loss, rec.lr, rec.grad_norm);
  if (rec.evaluated && n > 0 && n < static_cast<int>(sizeof detail))
    std::snprintf(detail + n, sizeof detail - static_cast<size_t>(n), "  eval %.4f", rec.metric);
  progress_.update(static_cast<size_t>(rec.step), detail, rec.evaluated);
}

TrainResult Trainer::run() {
  if (!resumed_ && !opts_.metrics_path.empty()) {
    FILE* f = std::fopen(opts_.metrics_path.c_str(), "wb");  // a fresh run starts a fresh log
    if (!f) throw std::runtime_error("cannot create metrics log " + opts_.metrics_path);
    std::fclose(f);
  }
  const int64_t total = total_steps();
  start_step_ = step();
  run_start_ = now_s();
  progress_ = eval::Progress(stderr, opts_.progress);
  progress_.start("train", static_cast<size_t>(total), "step", static_cast<size_t>(start_step_));
  TrainResult result;
  while (!stopped_ && step() < total) {
    StepLog rec = train_step(step());
    const bool last = rec.step == total;
    if (eval_ && opts_.eval_every > 0 && (rec.step % opts_.eval_every == 0 || last))
      stopped_ = evaluate(rec);
    append_log(rec);
    train_seconds_ += rec.seconds;  // before the checkpoint, which carries the totals
    train_examples_ += rec.examples;
    if (!opts_.checkpoint_path.empty() &&
        (last || stopped_ ||
         (opts_.checkpoint_every > 0 && rec.step % opts_.checkpoint_every == 0)))
      save_checkpoint(opts_.checkpoint_path);
    show_progress(rec);
    result.log.push_back(rec);
    if (on_step_) on_step_(rec);
  }
  if (opts_.keep_best && has_best_ && !best_.empty()) {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params_.size(); ++i) params_[i].copy_(best_[i]);
  }
  progress_.finish();
  result.steps = step();
  result.stopped_early = stopped_;
  result.has_best = has_best_;
  result.best_metric = best_metric_;
  result.best_step = best_step_;
  result.train_seconds = train_seconds_;
  result.train_examples = train_examples_;
  result.resumed_step = resumed_step_;
  result.resumed_seconds = resumed_seconds_;
  resumed_seconds_ = run_seconds();  // a later run() call counts on from here
  run_start_ = -1.0;
  return result;
}

}  // namespace ptune::train
