// Prompt tuning's PEFT keys and schema; contract in methods/prompt_tuning/peft_keys.h.
#include "methods/prompt_tuning/peft_keys.h"

namespace ptune::methods {

using peft::PeftConfigError;
using json = nlohmann::json;

const std::vector<std::string>& prompt_tuning_inits() {
  static const std::vector<std::string> inits = {"RANDOM",
                                                 "SAMPLE_VOCAB",
                                                 "TEXT",
                                                 "AVERAGE_SOURCE_TASKS",
                                                 "EXACT_SOURCE_TASK",
                                                 "ONLY_SOURCE_SHARED"};
  return inits;
}

PromptTuningPeftKeys read_prompt_tuning_keys(const peft::PromptLearningConfig& c) {
  PromptTuningPeftKeys k;
  k.init = peft::key_enum(c, "prompt_tuning_init", k.init, prompt_tuning_inits());
  k.init_text = peft::key_string(c, "prompt_tuning_init_text");
  k.tokenizer_name_or_path = peft::key_string(c, "tokenizer_name_or_path");
  return k;
}

void write_prompt_tuning_keys(peft::PromptLearningConfig& c, const PromptTuningPeftKeys& k) {
  auto nullable = [](const std::optional<std::string>& s) { return s ? json(*s) : json(); };
  c.keys["prompt_tuning_init"] = k.init;
  c.keys["prompt_tuning_init_text"] = nullable(k.init_text);
  c.keys["tokenizer_name_or_path"] = nullable(k.tokenizer_name_or_path);
}

void check_prompt_tuning_text(const PromptTuningPeftKeys& k) {
  if (k.init != "TEXT") return;
  if (!k.init_text || k.init_text->empty()) {
    throw PeftConfigError(
        "prompt_tuning_init is TEXT but key 'prompt_tuning_init_text' is not set");
  }
  if (!k.tokenizer_name_or_path) {
    throw PeftConfigError("prompt_tuning_init is TEXT but key 'tokenizer_name_or_path' is not set");
  }
}

json prompt_tuning_key_defaults() {
  return {{"prompt_tuning_init", "RANDOM"},
          {"prompt_tuning_init_text", nullptr},
          {"tokenizer_kwargs", nullptr},
          {"tokenizer_name_or_path", nullptr}};
}

PeftSchema prompt_tuning_peft_schema() {
  PeftSchema s;
  s.peft_type = "PROMPT_TUNING";
  s.defaults = prompt_tuning_key_defaults();
  s.validate_keys = [](const peft::PromptLearningConfig& c) {
    const PromptTuningPeftKeys k = read_prompt_tuning_keys(c);
    check_prompt_tuning_text(k);
    if (k.init != "RANDOM" && k.init != "SAMPLE_VOCAB" && k.init != "TEXT") {
      throw PeftConfigError("key 'prompt_tuning_init': " + k.init +
                            " is only for MULTITASK_PROMPT_TUNING");
    }
  };
  s.expected_tensors = soft_prompt_tensors;
  s.shape_rule = soft_prompt_shape_rule;
  return s;
}

}  // namespace ptune::methods
