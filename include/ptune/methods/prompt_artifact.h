// A tuned prompt of either kind, loaded for inference by one loader for every subcommand
// (`eval`, `generate`, `chat` take it through --adapter):
//   continuous  a folder with adapter_config.json (PEFT's format; written by `ptune tune` or
//               PEFT's save_pretrained): the method whose peft_type it names loads it, and the
//               model consumes its keys/values (state())
//   discrete    a discrete prompt file (tasks/discrete_prompt.h): text placed in the template
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "ptune/methods/trainable.h"
#include "ptune/model/model.h"
#include "ptune/tasks/discrete_prompt.h"

namespace ptune::methods {

struct PromptArtifact {
  std::string path;
  std::string method;  // the registry's method name, or the discrete prompt's recorded method
  std::unique_ptr<TrainablePrompt> continuous;    // set for an adapter folder
  std::optional<tasks::DiscretePrompt> discrete;  // set for a discrete prompt file

  // The virtual tokens' keys/values for one row ([1, Hkv, N, D] per layer), computed without
  // gradients; empty for a discrete prompt.
  PastKV state(const Model& model) const;
  // For text without a task template (generate, chat, serve): the instruction (a system
  // message, or the text before a plain prompt) with a discrete prompt placed as its placement
  // says; the instruction itself for a continuous prompt. Throws std::invalid_argument for a
  // slot placement, which needs a task template (eval).
  std::string place_in(const std::string& instruction) const;
  // One line for logs: "prefix-tuning adapter, 20 virtual tokens" / "discrete prompt (prefix)".
  std::string describe() const;
};

// Loads `path`: a folder holding adapter_config.json, or a discrete prompt file. Throws
// peft::PeftConfigError / tasks::TaskFileError naming the path and what is wrong (also for a
// PEFT type no registered method reads, or an adapter made for a model of other dimensions).
PromptArtifact load_prompt_artifact(const std::string& path, const Model& model);

}  // namespace ptune::methods
