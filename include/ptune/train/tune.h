// Learning a continuous prompt for a task with the model frozen, through the shared Trainer, by
// any method in the registry (include/ptune/methods/registry.h): the method builds the
// trainable prompt, everything else here is the same for all of them.
//
//   examples   the train split rendered by the task's template (chat tasks in the model's chat
//              template, as `ptune eval` renders them), tokenized once
//   batches    right-padded, grouped by length (Trainer::set_lengths) so little is padding
//   prompt     its keys/values (TrainablePrompt::state, batch 1) and then the tokens all rows
//              start with run once per batch and are given to every row as past keys/values;
//              the model stays frozen (no weight gradients)
//   loss       classification: TuneOptions::loss (include/ptune/train/training_set.h): the
//              labels' first tokens, their whole continuations through a token trie, or the
//              gold label's tokens as LM targets
//              generation / qa: LM cross-entropy on the first reference (plus the end of turn
//              for chat tasks, the first stop string otherwise), logits only at those positions
//   dev        the task's metric through the eval harness every --eval-every steps, with the
//              prompt as the adapter; the best prompt is kept
//   output     the PEFT artifact in out_dir, plus out_dir/ptune_train.json (the run's record),
//              written all or nothing (train::replace_dir): a failure leaves out_dir as it was
//   shared     out_dir and the checkpoint are locked for the whole call (train::PathLock), so a
//              second run on either is refused at start; an out_dir that already holds an
//              adapter is refused at start too, unless `force`
//   resume     the checkpoint carries every setting that decides the result (the trainer's, and
//              this file's: method and its config, template, loss, data digests, dev metric...):
//              a resume with other settings is refused naming them; the record covers the whole
//              run, the steps before the resume included
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>

#include <memory>

#include "ptune/eval/evaluator.h"
#include "ptune/methods/registry.h"
#include "ptune/model/model.h"
#include "ptune/tasks/task.h"
#include "ptune/tokenizer/tokenizer.h"
#include "ptune/train/trainer.h"
#include "ptune/train/training_set.h"

namespace ptune::train {

struct TuneOptions {
  std::string method = "prompt-tuning";  // a registered method's name
  // The method's settings (its make_config() type); null = its defaults. Validated here.
  std::shared_ptr<methods::MethodConfig> config;
  std::string template_name = "default";
  // Classification: first-token, sequence or lm; auto = first-token when the labels' first
  // tokens are distinct, else sequence. Generation and qa always train with lm.
  Loss loss = Loss::Auto;
  TrainOptions train = method_lr();  // train.lr 0 (the default here) = the method's default_lr()
  bool group_by_length = true;       // length-grouped batches
  // Run the tokens every row of a batch starts with once per batch (the prompt itself always is).
  bool share_prefix = true;
  // Dev metric: "" = accuracy for classification, else the task's first metric. nll and
  // perplexity count as lower-is-better.
  std::string eval_metric;
  size_t dev_limit = 0;    // evaluate on a seeded stratified sample of N dev examples (0 = all)
  std::string out_dir;     // the PEFT artifact (adapter_config.json + adapter_model.safetensors)
  std::string base_model;  // recorded in adapter_config.json
  bool force = false;      // replace an adapter already in out_dir (else refused at start)
  // Called after every optimizer step (the run store's per-step log); may be empty.
  std::function<void(const StepLog&)> on_step;

  static TrainOptions method_lr() {
    TrainOptions t;
    t.lr = 0;
    return t;
  }
};

struct TuneResult {
  TrainResult train;
  std::string metric;     // the dev metric's name
  double dev_before = 0;  // with the initial prompt
  double dev_after = 0;   // with the prompt that was saved
  // The final dev evaluation of the saved prompt (every task metric with its 95% CI,
  // per-example records); empty when the task has no dev split.
  eval::EvalResult dev;
  int64_t trainable_parameters = 0;
  double seconds = 0;       // this call, plus the training time of the calls it resumed (from the
                            // checkpoint): the whole run
  int64_t peak_rss_mb = 0;  // of the process, at the end
  nlohmann::json record;    // what ptune_train.json holds
};

// Throws std::invalid_argument for an unknown method, a config the method refuses, a
// multiple-choice task, a template with soft slots, a loss that does not fit the task (first-token
// with labels whose first tokens collide), bad options, or an out_dir holding an adapter without
// `force`; std::runtime_error when another run holds out_dir's or the checkpoint's lock, the
// checkpoint does not fit this run, or the output cannot be written.
TuneResult tune_prompt(const tasks::TaskSpec& task, const tasks::TaskData& data, const Model& model,
                       const Tokenizer& tokenizer, const TuneOptions& options);

}  // namespace ptune::train
