// P-tuning's registry entry and config (the options `ptune tune --method p-tuning` takes).
#include <stdexcept>
#include <string>

#include "methods/p_tuning/peft_keys.h"
#include "ptune/methods/limits.h"
#include "ptune/methods/p_tuning.h"
#include "ptune/methods/peft_schema.h"
#include "ptune/methods/prompt_tuning.h"

namespace ptune::methods {

namespace {

// Parameters of PEFT's PromptEncoder (p_tuning.h) for a model of hidden size c.
double encoder_parameters(const PTuningConfig& p, double c, double h) {
  const double n = static_cast<double>(p.virtual_tokens);
  if (p.encoder == "mlp") return n * c + (c * h + h) + (h * h + h) + (h * c + c);
  // Per direction 4 gates: input and recurrent weights plus two biases; later layers read both
  // directions (2h).
  const double first = 2 * (4 * h * c + 4 * h * h + 8 * h);
  const double later = 2 * (4 * h * 2 * h + 4 * h * h + 8 * h);
  const double mlp = (2 * h * 2 * h + 2 * h) + (2 * h * c + c);
  return n * c + first + later * static_cast<double>(p.lstm_layers - 1) + mlp;
}

}  // namespace

void PTuningConfig::describe(ConfigFields& f) {
  f.add("virtual-tokens", &virtual_tokens,
        "Prompt length in virtual tokens, 1 to " + std::to_string(kMaxVirtualTokens));
  f.add("encoder", &encoder, "Prompt encoder: mlp or lstm (bidirectional, then an MLP)",
        {"mlp", "lstm"});
  f.add("encoder-hidden", &hidden_size,
        "Encoder hidden size, 0 to " + std::to_string(kMaxEncoderHidden) +
            " (0 = the model's hidden size)");
  f.add("encoder-layers", &lstm_layers,
        "With --encoder lstm: LSTM layers, 1 to " + std::to_string(kMaxEncoderLayers));
  f.add("encoder-dropout", &dropout, "With --encoder lstm: dropout between layers, in [0, 1)");
}

void PTuningConfig::validate() const {
  check_integer_range("virtual-tokens", virtual_tokens, 1, kMaxVirtualTokens);
  if (encoder != "mlp" && encoder != "lstm") {
    throw std::invalid_argument("--encoder must be mlp or lstm, got '" + encoder + "'");
  }
  check_integer_range("encoder-hidden", hidden_size, 0, kMaxEncoderHidden);
  check_integer_range("encoder-layers", lstm_layers, 1, kMaxEncoderLayers);
  if (!(dropout >= 0 && dropout < 1)) {
    throw std::invalid_argument("--encoder-dropout: " + number_text(dropout) +
                                " is not in [0, 1) (at least 0, below 1)");
  }
}

void PTuningConfig::validate_for(const ModelConfig& model) const {
  check_virtual_tokens_fit(virtual_tokens, model);
  const double c = static_cast<double>(model.n_embd);
  const double h = hidden_size > 0 ? static_cast<double>(hidden_size) : c;
  std::string what = "--encoder-hidden " + std::to_string(hidden_size);
  if (encoder == "lstm") what += " --encoder-layers " + std::to_string(lstm_layers);
  check_fits_memory(what, adamw_training_bytes(encoder_parameters(*this, c, h)),
                    "the prompt encoder's parameters, gradients and AdamW state");
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
