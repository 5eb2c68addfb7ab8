// Learning a continuous prompt for a task with the model frozen, through the shared Trainer:
// prompt tuning, P-tuning or prefix tuning (include/ptune/methods/*.h).
//
//   examples   the train split rendered by the task's template (chat tasks in the model's chat
//              template, as `ptune eval` renders them), tokenized once
//   batches    right-padded, grouped by length (Trainer::set_lengths) so little is padding
//   prompt     run once per batch, with the tokens all rows start with (batch 1), and given to
//              every row as past keys/values: soft-prompt methods as embeddings before the first
//              token, prefix tuning as keys/values; the model stays frozen (no weight gradients)
//   loss       classification: verbalizer cross-entropy at the last prompt position over the
//              labels' first tokens only (logits restricted with vocab_subset)
//              generation / qa: LM cross-entropy on the first reference (plus the end of turn
//              for chat tasks, the first stop string otherwise), logits only at those positions
//   dev        the task's metric through the eval harness every --eval-every steps, with the
//              prompt as the adapter; the best prompt is kept
//   output     the PEFT artifact in out_dir, plus out_dir/ptune_train.json (the run's record)
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "ptune/methods/p_tuning.h"
#include "ptune/methods/prefix_tuning.h"
#include "ptune/methods/prompt_tuning.h"
#include "ptune/model/llama.h"
#include "ptune/tasks/task.h"
#include "ptune/tokenizer/tokenizer.h"
#include "ptune/train/trainer.h"

namespace ptune::train {

enum class TuneMethod { PromptTuning, PTuning, PrefixTuning };
const char* method_name(TuneMethod m);  // "prompt-tuning", "p-tuning", "prefix-tuning"

struct TuneOptions {
  TuneMethod method = TuneMethod::PromptTuning;
  // The chosen method's config is used (seeded with train.seed).
  methods::PromptTuningConfig prompt_tuning;
  methods::PTuningConfig p_tuning;
  methods::PrefixTuningConfig prefix_tuning;
  std::string template_name = "default";
  TrainOptions train;
  bool group_by_length = true;  // length-grouped batches
  // Run the tokens every row of a batch starts with once per batch (the prompt itself always is).
  bool share_prefix = true;
  // Dev metric: "" = accuracy for classification, else the task's first metric. nll and
  // perplexity count as lower-is-better.
  std::string eval_metric;
  size_t dev_limit = 0;    // evaluate on the first N dev examples (0 = all)
  std::string out_dir;     // the PEFT artifact (adapter_config.json + adapter_model.safetensors)
  std::string base_model;  // recorded in adapter_config.json
};

struct TuneResult {
  TrainResult train;
  std::string metric;     // the dev metric's name
  double dev_before = 0;  // with the initial prompt
  double dev_after = 0;   // with the prompt that was saved
  int64_t trainable_parameters = 0;
  double seconds = 0;       // the whole call
  int64_t peak_rss_mb = 0;  // of the process, at the end
  nlohmann::json record;    // what ptune_train.json holds
};

// Throws std::invalid_argument for a multiple-choice task, a template with soft slots, labels
// whose first tokens collide, or bad options.
TuneResult tune_prompt(const tasks::TaskSpec& task, const tasks::TaskData& data,
                       const LlamaModel& model, const Tokenizer& tokenizer,
                       const TuneOptions& options);

}  // namespace ptune::train
