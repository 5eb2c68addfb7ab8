#include "ptune/methods/adapter.h"

#include "methods/peft_artifact.h"
#include "ptune/io/peft_config.h"

namespace ptune::methods {

Adapter Adapter::load(const std::string& dir, const LlamaConfig& model) {
  const peft::PeftType type = peft::read_config(dir + "/adapter_config.json").peft_type;
  const std::string name = peft::peft_type_name(type);
  switch (type) {
    case peft::PeftType::PROMPT_TUNING:
    case peft::PeftType::P_TUNING:  // the artifact holds the encoder's output: a soft prompt
      return Adapter(name, PromptTuning(read_prompt_embeddings(dir, type, model)));
    case peft::PeftType::PREFIX_TUNING:
      return Adapter(name, PrefixTuning::load(dir, model));
    default:
      throw peft::PeftConfigError(dir + ": " + name + " adapters are not supported yet");
  }
}

PastKV Adapter::prefix_state(const LlamaModel& model) const {
  if (const auto* prefix = std::get_if<PrefixTuning>(&impl_)) return prefix->past(1);
  return soft_prompt_state(model, std::get<PromptTuning>(impl_).embeddings());
}

int64_t Adapter::n_virtual() const {
  return std::visit([](const auto& m) { return m.n_virtual(); }, impl_);
}

}  // namespace ptune::methods
