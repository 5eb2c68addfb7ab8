// The method registry: every way ptune learns a prompt, one entry each, filled by the method's
// own folder (src/methods/<method>/register.cpp defines register_method_<method>(); the build
// generates the call of each, see cmake/registrations.cmake). `ptune tune --method`, its --help,
// training (train/tune.h) and artifact loading (prompt_artifact.h) all read this table, so
// adding a method is adding its folder. Tests register methods of their own at run time.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ptune/methods/config_fields.h"
#include "ptune/methods/trainable.h"
#include "ptune/model/model.h"
#include "ptune/tokenizer/tokenizer.h"

namespace ptune::methods {

// A method's settings: its options (defaults, help text) and one validate().
class MethodConfig {
 public:
  virtual ~MethodConfig() = default;
  // Declares every option with its help; the pointers stay valid while the config lives.
  virtual void describe(ConfigFields& fields) = 0;
  // Throws std::invalid_argument naming the option that is wrong and why (each option's range:
  // ptune/methods/limits.h).
  virtual void validate() const = 0;
  // The checks that need the model, run before the prompt is built (prompt_factory): what the
  // options ask for must fit the model's context and this machine's memory. Throws
  // std::invalid_argument naming the option, its value and the bound (with the estimate, for
  // memory). The default checks nothing.
  virtual void validate_for(const ModelConfig& model) const { (void)model; }
  // The peak learning rate used when the user gives none (it may depend on the options).
  virtual double default_lr() const = 0;
};

// What building a prompt for training may use.
struct BuildContext {
  const Model& model;
  const Tokenizer& tokenizer;
  uint64_t seed = 0;
};

struct Method {
  std::string name;         // `ptune tune --method NAME`, kebab-case: "prompt-tuning"
  std::string description;  // one line, shown by --help
  std::string peft_type;    // PEFT's peft_type of its artifacts ("PROMPT_TUNING"); "" = none
  std::function<std::unique_ptr<MethodConfig>()> make_config;  // with the defaults
  // A trainable prompt, seeded; `config` is what make_config returned, validated.
  std::function<std::unique_ptr<TrainablePrompt>(const MethodConfig& config,
                                                 const BuildContext& context)>
      make_prompt;
  // The prompt a saved artifact (a folder TrainablePrompt::save wrote) holds, for inference.
  // Throws peft::PeftConfigError when it is not this method's or does not fit the model.
  std::function<std::unique_ptr<TrainablePrompt>(const std::string& dir, const Model& model)> load;
};

// Throws std::invalid_argument for an empty or taken name, a taken peft_type, or a missing
// function.
void register_method(Method method);
// Null when none has that name / PEFT type.
const Method* find_method(const std::string& name);
const Method* find_method_by_peft_type(const std::string& peft_type);
// Like find_method, but throws std::invalid_argument listing the registered names.
const Method& method_named(const std::string& name);
// Every registered method, sorted by name.
std::vector<const Method*> registered_methods();

// `config` as the method's own config type; throws std::logic_error if it is another.
template <typename Config>
const Config& config_as(const MethodConfig& config) {
  const auto* c = dynamic_cast<const Config*>(&config);
  if (!c) throw std::logic_error("method config of the wrong type");
  return *c;
}

// Method::make_config for a method whose config type is Config.
template <typename Config>
std::function<std::unique_ptr<MethodConfig>()> config_factory() {
  return [] { return std::make_unique<Config>(); };
}

// Method::make_prompt from `build(const Config&, const BuildContext&)`, which gets the config
// as the method's own type, checked against the model (validate_for) before anything is built.
template <typename Config, typename Build>
std::function<std::unique_ptr<TrainablePrompt>(const MethodConfig&, const BuildContext&)>
prompt_factory(Build build) {
  return
      [build](const MethodConfig& c, const BuildContext& ctx) -> std::unique_ptr<TrainablePrompt> {
        const Config& config = config_as<Config>(c);
        config.validate_for(ctx.model.config());
        return build(config, ctx);
      };
}

}  // namespace ptune::methods
