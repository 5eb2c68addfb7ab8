// P-tuning's registry entry and config (the options `ptune tune --method p-tuning` takes).
#include <stdexcept>

#include "methods/p_tuning/peft_keys.h"
#include "ptune/methods/p_tuning.h"
#include "ptune/methods/peft_schema.h"
#include "ptune/methods/prompt_tuning.h"

namespace ptune::methods {

void PTuningConfig::describe(ConfigFields& f) {
  f.add("virtual-tokens", &virtual_tokens, "Prompt length in virtual tokens");
  f.add("encoder", &encoder, "Prompt encoder: mlp or lstm (bidirectional, then an MLP)",
        {"mlp", "lstm"});
  f.add("encoder-hidden", &hidden_size, "Encoder hidden size (0 = the model's hidden size)");
  f.add("encoder-layers", &lstm_layers, "With --encoder lstm: LSTM layers");
  f.add("encoder-dropout", &dropout, "With --encoder lstm: dropout between layers, in [0, 1)");
}

void PTuningConfig::validate() const {
  if (virtual_tokens < 1) throw std::invalid_argument("--virtual-tokens must be >= 1");
  if (encoder != "mlp" && encoder != "lstm") {
    throw std::invalid_argument("--encoder must be mlp or lstm, got '" + encoder + "'");
  }
  if (hidden_size < 0) throw std::invalid_argument("--encoder-hidden must be >= 0");
  if (lstm_layers < 1) throw std::invalid_argument("--encoder-layers must be >= 1");
  if (!(dropout >= 0 && dropout < 1)) {
    throw std::invalid_argument("--encoder-dropout must be in [0, 1)");
  }
}

}  // namespace ptune::methods

namespace ptune::detail {

void register_method_p_tuning() {
  using namespace methods;
  register_peft_schema(p_tuning_peft_schema());
  register_method(
      {"p-tuning", "Liu et al. 2021: virtual tokens through an MLP or LSTM prompt encoder",
       "P_TUNING", config_factory<PTuningConfig>(),
       prompt_factory<PTuningConfig>([](const PTuningConfig& c, const BuildContext& ctx) {
         return std::make_unique<PromptEncoder>(c, ctx.model, ctx.seed);
       }),
       // The artifact holds the encoder's output: a fixed soft prompt.
       [](const std::string& dir, const Model& model) {
         return load_soft_prompt(dir, "P_TUNING", model);
       }});
}

}  // namespace ptune::detail
