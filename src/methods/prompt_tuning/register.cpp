// Prompt tuning's registry entry and config (the options `ptune tune --method prompt-tuning`
// takes).
#include <stdexcept>

#include "methods/prompt_tuning/peft_keys.h"
#include "ptune/methods/limits.h"
#include "ptune/methods/peft_schema.h"
#include "ptune/methods/prompt_tuning.h"

namespace ptune::methods {

void PromptTuningConfig::describe(ConfigFields& f) {
  f.add("virtual-tokens", &virtual_tokens,
        "Prompt length in virtual tokens, 1 to " + std::to_string(kMaxVirtualTokens));
  f.add("init", &init,
        "How the prompt starts: random, vocab (sampled vocabulary rows) or text (--init-text)",
        {"random", "vocab", "text"});
  f.add("init-text", &init_text, "With --init text: text whose token embeddings start the prompt");
}

void PromptTuningConfig::validate() const {
  check_integer_range("virtual-tokens", virtual_tokens, 1, kMaxVirtualTokens);
  if (init != "random" && init != "vocab" && init != "text") {
    throw std::invalid_argument("--init must be random, vocab or text, got '" + init + "'");
  }
  if (init == "text" && init_text.empty()) {
    throw std::invalid_argument("--init text needs --init-text");
  }
  if (init != "text" && !init_text.empty()) {
    throw std::invalid_argument("--init-text is only used with --init text");
  }
}

void PromptTuningConfig::validate_for(const ModelConfig& model) const {
  check_virtual_tokens_fit(virtual_tokens, model);
  check_fits_memory("--virtual-tokens " + std::to_string(virtual_tokens),
                    adamw_training_bytes(static_cast<double>(virtual_tokens) * model.n_embd),
                    "the prompt's embeddings, gradients and AdamW state");
}

}  // namespace ptune::methods

namespace ptune::detail {

void register_method_prompt_tuning() {
  using namespace methods;
  register_peft_schema(prompt_tuning_peft_schema());
  register_method(
      {"prompt-tuning", "Lester et al. 2021: N trainable embeddings before the input",
       "PROMPT_TUNING", config_factory<PromptTuningConfig>(),
       prompt_factory<PromptTuningConfig>([](const PromptTuningConfig& c, const BuildContext& ctx) {
         return std::make_unique<PromptEmbedding>(c, ctx.model, ctx.tokenizer, ctx.seed);
       }),
       [](const std::string& dir, const Model& model) {
         return load_soft_prompt(dir, "PROMPT_TUNING", model);
       }});
}

}  // namespace ptune::detail
