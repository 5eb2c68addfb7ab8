// Prompt tuning's own keys in a PEFT adapter_config.json (peft/tuners/prompt_tuning/config.py)
// and the PROMPT_TUNING schema (ptune/methods/peft_schema.h). The keys say how the prompt began;
// PEFT ignores them when it loads an artifact for inference, and so does ptune.
//
// The lead's register.cpp registers prompt_tuning_peft_schema(); save() fills a config with
// write_prompt_tuning_keys. MULTITASK_PROMPT_TUNING (a PromptTuningConfig in PEFT) reuses the
// keys and their TEXT check.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ptune/io/peft_config.h"
#include "ptune/methods/peft_schema.h"

namespace ptune::methods {

struct PromptTuningPeftKeys {
  // prompt_tuning_init: RANDOM, SAMPLE_VOCAB or TEXT (MULTITASK_PROMPT_TUNING also has
  // AVERAGE_SOURCE_TASKS, EXACT_SOURCE_TASK, ONLY_SOURCE_SHARED).
  std::string init = "RANDOM";
  std::optional<std::string> init_text;               // prompt_tuning_init_text; TEXT needs it
  std::optional<std::string> tokenizer_name_or_path;  // TEXT needs it
};

// PEFT's PromptTuningInit values, MULTITASK_PROMPT_TUNING's last.
const std::vector<std::string>& prompt_tuning_inits();

// Typed reads (absent keys take PEFT's defaults); throws PeftConfigError naming the key, for a
// wrong type or an init that is none of prompt_tuning_inits(). Checks nothing across keys.
PromptTuningPeftKeys read_prompt_tuning_keys(const peft::PromptLearningConfig& config);
// Sets prompt_tuning_init, prompt_tuning_init_text and tokenizer_name_or_path (null if unset).
void write_prompt_tuning_keys(peft::PromptLearningConfig& config, const PromptTuningPeftKeys& keys);
// PEFT's __post_init__: TEXT needs a non-empty init text and a tokenizer.
void check_prompt_tuning_text(const PromptTuningPeftKeys& keys);
// The keys PEFT writes for a PromptTuningConfig, with its defaults.
nlohmann::json prompt_tuning_key_defaults();

PeftSchema prompt_tuning_peft_schema();

}  // namespace ptune::methods
