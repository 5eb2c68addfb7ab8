// Loading tuned prompts of either kind; contract in ptune/methods/prompt_artifact.h.
#include "ptune/methods/prompt_artifact.h"

#include <filesystem>
#include <stdexcept>

#include "ptune/io/peft_config.h"
#include "ptune/methods/registry.h"
#include "ptune/tasks/errors.h"

namespace ptune::methods {

namespace {

PromptArtifact load_adapter_folder(const std::string& dir, const Model& model) {
  const std::string type = peft::read_config(dir + "/adapter_config.json").peft_type;
  const Method* m = find_method_by_peft_type(type);
  if (!m) {
    std::string known;
    for (const Method* r : registered_methods()) {
      if (!r->peft_type.empty()) known += (known.empty() ? "" : ", ") + r->peft_type;
    }
    throw peft::PeftConfigError(dir + ": " + type +
                                " adapters are not supported (supported: " + known + ")");
  }
  PromptArtifact a;
  a.path = dir;
  a.method = m->name;
  a.continuous = m->load(dir, model);
  return a;
}

}  // namespace

PastKV PromptArtifact::state(const Model& model) const {
  if (!continuous) return {};
  torch::NoGradGuard no_grad;
  return continuous->state(model, /*training=*/false);
}

std::string PromptArtifact::describe() const {
  if (continuous) {
    return method + " adapter, " + std::to_string(continuous->n_virtual()) + " virtual tokens";
  }
  return "discrete prompt (" + std::string(tasks::placement_name(discrete->placement)) +
         (method.empty() ? "" : ", found by " + method) + ")";
}

std::string PromptArtifact::place_in(const std::string& instruction) const {
  if (!discrete) return instruction;
  switch (discrete->placement) {
    case tasks::DiscretePrompt::Placement::Prefix:
      return instruction.empty() ? discrete->text : discrete->text + " " + instruction;
    case tasks::DiscretePrompt::Placement::Instruction:
      return discrete->text;
    case tasks::DiscretePrompt::Placement::Slot:
      break;
  }
  throw std::invalid_argument(path + ": a prompt for the template slot '" + discrete->slot +
                              "' needs a task template; use it with `ptune eval`");
}

PromptArtifact load_prompt_artifact(const std::string& path, const Model& model) {
  namespace fs = std::filesystem;
  if (fs::is_directory(path)) return load_adapter_folder(path, model);
  if (!fs::exists(path)) {
    throw tasks::TaskFileError(path, "", "no such adapter folder or discrete prompt file");
  }
  PromptArtifact a;
  a.path = path;
  a.discrete = tasks::read_discrete_prompt(path);
  a.method = a.discrete->method;
  return a;
}

}  // namespace ptune::methods
