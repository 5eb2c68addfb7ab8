// Learning a soft prompt for a classification task (prompt tuning, Lester et al. 2021), with the
// shared Trainer: verbalizer cross-entropy at the last prompt position over the labels' first
// tokens only (logits restricted with vocab_subset), dev-split accuracy through the eval
// harness every N steps, best prompt kept, artifact written in PEFT's format.
#pragma once

#include <cstdint>
#include <string>

#include "ptune/model/llama.h"
#include "ptune/tasks/task.h"
#include "ptune/tokenizer/tokenizer.h"
#include "ptune/train/trainer.h"

namespace ptune::train {

enum class PromptInit { Random, SampleVocab, Text };

struct TuneOptions {
  int64_t virtual_tokens = 20;
  PromptInit init = PromptInit::SampleVocab;  // PEFT: sampled vocabulary beats random init
  std::string init_text;                      // with PromptInit::Text
  std::string template_name = "default";
  TrainOptions train;
  size_t dev_limit = 0;    // evaluate on the first N dev examples (0 = all)
  std::string out_dir;     // the PEFT artifact (adapter_config.json + adapter_model.safetensors)
  std::string base_model;  // recorded in adapter_config.json
};

struct TuneResult {
  TrainResult train;
  double dev_accuracy_before = 0;  // the zero-shot template with the initial prompt
  double dev_accuracy = 0;         // with the prompt that was saved
  double seconds = 0;
  int64_t peak_rss_mb = 0;
};

// Throws std::invalid_argument for a task that is not classification, labels whose first tokens
// collide, or bad options.
TuneResult tune_prompt(const tasks::TaskSpec& task, const tasks::TaskData& data,
                       const LlamaModel& model, const Tokenizer& tokenizer,
                       const TuneOptions& options);

}  // namespace ptune::train
