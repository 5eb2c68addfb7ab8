// A trained prompt adapter of any method, loaded for inference (generate, chat, eval).
//
// Every method reduces at inference to keys/values for its virtual tokens, prepended as `past`:
// prefix tuning stores them directly; a soft prompt (prompt tuning, and P-tuning, whose PEFT
// artifact holds the encoder's output) is run through the model once to get them. Generation
// then needs only the prefix mechanism the model already has.
#pragma once

#include <string>
#include <variant>

#include "ptune/methods/prefix_tuning.h"
#include "ptune/methods/prompt_tuning.h"

namespace ptune::methods {

class Adapter {
 public:
  // Reads a PEFT artifact directory of type PROMPT_TUNING, P_TUNING or PREFIX_TUNING.
  static Adapter load(const std::string& dir, const LlamaConfig& model);

  // Keys/values of the virtual tokens for one sequence ([1, Hkv, N, D] per layer).
  PastKV prefix_state(const LlamaModel& model) const;
  const std::string& method() const { return method_; }  // PEFT's peft_type
  int64_t n_virtual() const;

 private:
  std::string method_;
  std::variant<PromptTuning, PrefixTuning> impl_;
  Adapter(std::string method, std::variant<PromptTuning, PrefixTuning> impl)
      : method_(std::move(method)), impl_(std::move(impl)) {}
};

}  // namespace ptune::methods
