// Learning a continuous prompt for a classification task with the shared Trainer: prompt tuning
// (Lester et al. 2021: virtual token embeddings) or prefix tuning (Li & Liang 2021: per-layer
// key/value prefixes, no reparameterisation). Loss: verbalizer cross-entropy at the last prompt
// position over the labels' first tokens only (logits restricted with vocab_subset); dev-split
// accuracy through the eval harness every N steps, best parameters kept, artifact written in
// PEFT's format.
#pragma once

#include <cstdint>
#include <string>

#include "ptune/model/llama.h"
#include "ptune/tasks/task.h"
#include "ptune/tokenizer/tokenizer.h"
#include "ptune/train/trainer.h"

namespace ptune::train {

enum class PromptInit { Random, SampleVocab, Text };
enum class TuneMethod { PromptTuning, PrefixTuning };

struct TuneOptions {
  TuneMethod method = TuneMethod::PromptTuning;
  int64_t virtual_tokens = 20;
  // Prompt tuning: PEFT's comparison finds sampled vocabulary better than random. Prefix tuning
  // always starts from the keys/values the model computes for sampled vocabulary tokens.
  PromptInit init = PromptInit::SampleVocab;
  std::string init_text;  // with PromptInit::Text
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
