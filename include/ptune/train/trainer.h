// The training loop shared by every gradient method (prompt tuning, P-tuning, prefix tuning).
//
// The trainer knows nothing about models or methods: it gets the trainable tensors, a loss
// function over a batch of example indices and the number of examples. Per step it
//   1. takes the next `batch_size` indices of the epoch's seeded permutation,
//   2. splits them into `accumulation` micro-batches, calls the loss on each and back-propagates
//      loss * (micro size / batch size), so the accumulated gradient is that of the batch mean,
//   3. clips the global gradient norm, sets the scheduled learning rate, steps AdamW,
//   4. evaluates every `eval_every` steps (early stopping, best-parameter copy), appends a JSONL
//      line to the metrics log, writes a checkpoint every `checkpoint_every` steps.
//
// Determinism: the data order of epoch e is a Fisher-Yates shuffle seeded by (seed, e), and the
// torch RNG is re-seeded with (seed, step) before each step (dropout in an encoder), so the whole
// run is a function of the seed and the step: resuming needs only the checkpointed step, the
// parameters, the AdamW moments and the early-stopping state. A run killed at any point and
// resumed from its last checkpoint produces the same parameters and log as an uninterrupted one.
//
// Checkpoint (one safetensors file, written atomically: tmp + rename):
//   tensors  "param.<i>", "exp_avg.<i>", "exp_avg_sq.<i>" (F32, the parameter shapes),
//            "best.<i>" when a best evaluation has been kept
//   metadata "format" = "ptune-train-checkpoint", "version" = "2", "step",
//            "has_best" / "best_metric" / "best_step" / "evals_since_best", "stopped",
//            "log_bytes" (length of the metrics log at the checkpoint; resume truncates the log
//            to it, dropping lines written after the checkpoint by the killed run),
//            "train_seconds" / "train_examples" / "run_seconds" (the run's totals so far, so a
//            resumed run reports the whole run), and "setting.<name>" for every setting that
//            decides the result (settings(): the trainer's options, the data size and order,
//            and the caller's TrainOptions::fingerprint). A resume refuses a checkpoint whose
//            settings differ, naming each with both values, and validates every field.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ptune/eval/progress.h"
#include "ptune/train/optimizer.h"

namespace ptune::train {

struct TrainOptions {
  int64_t batch_size = 8;    // examples per optimizer step
  int64_t accumulation = 1;  // micro-batches per step (batch_size / accumulation examples each)
  int64_t epochs = 1;        // used when max_steps == 0
  int64_t max_steps = 0;     // 0 = epochs * steps per epoch; else stops here (epochs ignored)
  bool drop_last = false;    // drop an epoch's last partial batch
  double lr = 3e-2;          // peak learning rate (PEFT's prompt-tuning docs: 3e-2 with AdamW)
  int64_t warmup_steps = 0;  // linear warmup from 0
  Schedule schedule = Schedule::Linear;  // decay to 0 at the last step after warmup
  AdamWOptions adam;
  double max_grad_norm = 1.0;    // global-norm clipping; 0 = off
  int64_t eval_every = 0;        // steps between evaluations (0 = none); the last step is evaluated
  bool higher_is_better = true;  // direction of the evaluation metric
  int patience = 0;              // stop after this many evaluations without improvement (0 = never)
  bool keep_best = true;         // end with the parameters of the best evaluation
  uint64_t seed = 42;
  bool deterministic = false;  // also ask torch for deterministic kernels
  // JSONL log, one line per step ("" = none): {"step","epoch","loss","lr","grad_norm"[,"eval"]}.
  // A run that did not resume starts it afresh; a resumed one cuts it back to the checkpoint.
  std::string metrics_path;
  std::string checkpoint_path;  // "" = no checkpoints
  int64_t checkpoint_every =
      0;  // steps between checkpoints (and one at the end) when a path is set
  // Progress on stderr: a bar with rate, ETA, loss and lr (or periodic lines), a line per dev
  // evaluation; Off for none.
  eval::Progress::Mode progress = eval::Progress::Mode::Auto;
  // What else decides the result, from the caller (the trainer knows no models or methods:
  // method, template, data digest, ...), name -> value. Saved in checkpoints with the trainer's
  // own settings; a resume whose values differ is refused. Names must not be the trainer's.
  std::map<std::string, std::string> fingerprint;

  // Throws std::invalid_argument naming the first bad field.
  void validate() const;
};

// Example indices of one micro-batch.
struct Batch {
  std::vector<int64_t> indices;
  int64_t epoch = 0;
  int64_t step = 0;  // 0-based optimizer step
};

// Mean loss over the batch's examples (a scalar that depends on the parameters).
using LossFn = std::function<torch::Tensor(const Batch&)>;
// The evaluation metric after `step` steps (e.g. dev accuracy).
using EvalFn = std::function<double(int64_t step)>;

struct StepLog {
  int64_t step = 0;  // 1-based: number of optimizer steps done
  int64_t epoch = 0;
  double loss = 0.0;  // batch mean loss
  double lr = 0.0;
  double grad_norm = 0.0;  // before clipping
  bool evaluated = false;
  double metric = 0.0;
  int64_t examples = 0;  // in this step's batch
  double seconds = 0.0;  // forward, backward, clipping and AdamW (no evaluation, no checkpoint)
};

struct TrainResult {
  int64_t steps = 0;  // steps done in total (resumed ones included)
  bool stopped_early = false;
  bool has_best = false;
  double best_metric = 0.0;
  int64_t best_step = 0;
  std::vector<StepLog> log;  // steps run by this call (not the ones before a resume)
  // Over the whole run, the steps before a resume included (from the checkpoint): time in
  // training steps only, and the examples they consumed.
  double train_seconds = 0.0;
  int64_t train_examples = 0;
  int64_t resumed_step = 0;  // the step this call resumed at (0 = a fresh run)
  // Wall-clock seconds earlier calls spent in run() up to the checkpoint resumed from.
  double resumed_seconds = 0.0;
};

class Trainer {
 public:
  // `params`: leaf float32 tensors that require grad, updated in place.
  Trainer(std::vector<torch::Tensor> params, LossFn loss, int64_t num_examples, TrainOptions opts);

  void set_eval(EvalFn eval) { eval_ = std::move(eval); }
  // Called after each step, after its checkpoint is written (logging, tests).
  void set_on_step(std::function<void(const StepLog&)> f) { on_step_ = std::move(f); }

  // Loads `path` (parameters, moments, step, early-stopping state, the run's totals) and
  // truncates the metrics log to the checkpoint. Throws std::runtime_error, with nothing
  // changed, when the file is unreadable, of another version, written with other settings (each
  // named with both values), or holds a field out of range or tensors that are not finite (the
  // field and value named). Returns false (nothing loaded) when the file does not exist.
  bool resume(const std::string& path);
  // Writes a checkpoint of the current state (atomic).
  void save_checkpoint(const std::string& path) const;

  // Trains to the end (or early stop); returns the summary.
  TrainResult run();

  int64_t steps_per_epoch() const;
  int64_t total_steps() const;
  // Every setting the result depends on, name -> value text (exact: doubles with 17 digits):
  // the options but the progress, log and checkpoint ones, the example count, the parameter
  // count, the length grouping, and TrainOptions::fingerprint.
  std::map<std::string, std::string> settings() const;
  int64_t step() const { return opt_.step_count(); }
  // Per-example lengths (e.g. tokens): batches are then grouped by length, so little of a batch is
  // padding. Throws std::invalid_argument when the count is not num_examples.
  void set_lengths(std::vector<int64_t> lengths);

  // The indices of epoch `epoch` in training order, a pure function of its arguments: a seeded
  // shuffle; with lengths, length-grouped batches of batch_size (windows of 16 batches of the
  // shuffle sorted by length, the batches then shuffled, a partial batch last).
  static std::vector<int64_t> epoch_order(uint64_t seed, int64_t epoch, int64_t num_examples,
                                          const std::vector<int64_t>& lengths = {},
                                          int64_t batch_size = 1);

 private:
  StepLog train_step(int64_t step);
  bool evaluate(StepLog& rec);  // returns true when training should stop
  void append_log(const StepLog& rec);
  void show_progress(const StepLog& rec);
  double run_seconds() const;  // wall-clock seconds in run(), earlier calls' included

  std::vector<torch::Tensor> params_;
  LossFn loss_;
  EvalFn eval_;
  std::function<void(const StepLog&)> on_step_;
  eval::Progress progress_;
  int64_t num_examples_;
  TrainOptions opts_;
  AdamW opt_;
  // Early stopping / best parameters.
  bool has_best_ = false;
  double best_metric_ = 0.0;
  int64_t best_step_ = 0;
  int evals_since_best_ = 0;
  bool stopped_ = false;  // early stop reached (saved, so a resumed stopped run stays stopped)
  bool resumed_ = false;
  std::vector<torch::Tensor> best_;
  std::vector<int64_t> lengths_;  // empty = no length grouping
  // Epoch order cache.
  int64_t order_epoch_ = -1;
  std::vector<int64_t> order_;
  int64_t start_step_ = 0;
  // The run's totals (resumed from the checkpoint, then counted on).
  double train_seconds_ = 0.0;
  int64_t train_examples_ = 0;
  int64_t resumed_step_ = 0;
  double resumed_seconds_ = 0.0;  // run() time of the calls before the checkpoint
  double run_start_ = -1.0;       // now_s() when run() began; < 0 outside run()
};

}  // namespace ptune::train
