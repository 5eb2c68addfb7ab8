// The MULTITASK_PROMPT_TUNING schema (peft/tuners/multitask_prompt_tuning/config.py). The method
// has no folder yet (issue 13 adds one, and this file moves there), so peft_schema.cpp registers
// it with the built-ins: MPT artifacts PEFT saved still parse and validate. An artifact holds
//   prompt_embeddings  [num_virtual_tokens * num_transformer_submodules, token_dim]
//   prefix_task_cols   [num_tasks, num_virtual_tokens, num_ranks]
//   prefix_task_rows   [num_tasks, num_ranks, token_dim]
// A MultitaskPromptTuningConfig is a PromptTuningConfig in PEFT: the prompt-tuning keys and
// their TEXT check apply, and its inits add AVERAGE_SOURCE_TASKS, EXACT_SOURCE_TASK and
// ONLY_SOURCE_SHARED.
#include "methods/prompt_tuning/peft_keys.h"
#include "ptune/methods/peft_schema.h"

namespace ptune::methods {

using peft::PeftConfigError;

namespace {

struct MultitaskKeys {
  int64_t num_ranks = 1;  // rank of the task-specific factors
  int64_t num_tasks = 1;
  int64_t init_task = 0;  // prompt_tuning_init_task: the task id for EXACT_SOURCE_TASK
};

MultitaskKeys read_keys(const peft::PromptLearningConfig& c) {
  MultitaskKeys k;
  k.num_ranks = peft::key_int(c, "num_ranks", k.num_ranks);
  k.num_tasks = peft::key_int(c, "num_tasks", k.num_tasks);
  k.init_task = peft::key_int(c, "prompt_tuning_init_task", k.init_task);
  peft::key_string(c, "prompt_tuning_init_state_dict_path");  // only its type is checked
  return k;
}

void check_keys(const peft::PromptLearningConfig& c) {
  check_prompt_tuning_text(read_prompt_tuning_keys(c));
  const MultitaskKeys k = read_keys(c);
  auto positive = [](const char* key, int64_t v) {
    if (v <= 0) {
      throw PeftConfigError(std::string("key '") + key + "' must be positive, got " +
                            std::to_string(v));
    }
  };
  positive("num_ranks", k.num_ranks);
  positive("num_tasks", k.num_tasks);
  if (k.init_task < 0 || k.init_task >= k.num_tasks) {
    throw PeftConfigError("key 'prompt_tuning_init_task' " + std::to_string(k.init_task) +
                          " is not a task id below num_tasks " + std::to_string(k.num_tasks));
  }
}

TensorShapes tensors(const peft::PromptLearningConfig& c) {
  const MultitaskKeys k = read_keys(c);
  auto u = [](int64_t v) { return static_cast<uint64_t>(v); };
  return {{"prompt_embeddings", soft_prompt_shape(c)},
          {"prefix_task_cols", {u(k.num_tasks), u(c.num_virtual_tokens), u(k.num_ranks)}},
          {"prefix_task_rows", {u(k.num_tasks), u(k.num_ranks), u(c.token_dim)}}};
}

std::string shape_rule(const peft::PromptLearningConfig& c, const std::string& tensor) {
  const MultitaskKeys k = read_keys(c);
  auto s = [](int64_t v) { return std::to_string(v); };
  if (tensor == "prefix_task_cols") {
    return "[num_tasks, num_virtual_tokens, num_ranks] = [" + s(k.num_tasks) + ", " +
           s(c.num_virtual_tokens) + ", " + s(k.num_ranks) + "]";
  }
  if (tensor == "prefix_task_rows") {
    return "[num_tasks, num_ranks, token_dim] = [" + s(k.num_tasks) + ", " + s(k.num_ranks) + ", " +
           s(c.token_dim) + "]";
  }
  return soft_prompt_shape_rule(c);
}

}  // namespace

PeftSchema multitask_prompt_tuning_peft_schema() {
  PeftSchema s;
  s.peft_type = "MULTITASK_PROMPT_TUNING";
  s.defaults = prompt_tuning_key_defaults();
  s.defaults["num_ranks"] = 1;
  s.defaults["num_tasks"] = 1;
  s.defaults["prompt_tuning_init_state_dict_path"] = nullptr;
  s.defaults["prompt_tuning_init_task"] = 0;
  s.validate_keys = check_keys;
  s.expected_tensors = tensors;
  s.shape_rule = shape_rule;
  return s;
}

}  // namespace ptune::methods
