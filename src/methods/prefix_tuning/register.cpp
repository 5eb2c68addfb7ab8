// Prefix tuning's registry entry and config (the options `ptune tune --method prefix-tuning`
// takes).
#include <stdexcept>
#include <string>

#include "methods/peft_artifact.h"
#include "methods/prefix_tuning/peft_keys.h"
#include "ptune/methods/limits.h"
#include "ptune/methods/peft_schema.h"
#include "ptune/methods/prefix_tuning.h"

namespace ptune::methods {

void PrefixTuningConfig::describe(ConfigFields& f) {
  f.add("virtual-tokens", &virtual_tokens,
        "Prefix length in virtual tokens, 1 to " + std::to_string(kMaxVirtualTokens));
  f.add("prefix-projection", &projection,
        "Learn the prefix through an MLP (Li & Liang's reparameterisation)");
  f.add("encoder-hidden", &hidden_size,
        "With --prefix-projection: MLP hidden size, 0 to " + std::to_string(kMaxEncoderHidden) +
            " (0 = kv_heads * head_dim, PEFT's default)");
}

void PrefixTuningConfig::validate() const {
  check_integer_range("virtual-tokens", virtual_tokens, 1, kMaxVirtualTokens);
  check_integer_range("encoder-hidden", hidden_size, 0, kMaxEncoderHidden);
  if (hidden_size > 0 && !projection) {
    throw std::invalid_argument("--encoder-hidden is only used with --prefix-projection");
  }
}

void PrefixTuningConfig::validate_for(const ModelConfig& model) const {
  check_virtual_tokens_fit(virtual_tokens, model);
  const double n = static_cast<double>(virtual_tokens);
  const double kv = static_cast<double>(model.n_head_kv * model.head_dim);
  const double out = static_cast<double>(model.n_layer) * 2 * kv;  // one prefix row
  if (!projection) {
    check_fits_memory("--virtual-tokens " + std::to_string(virtual_tokens),
                      adamw_training_bytes(n * out),
                      "the prefix's values, gradients and AdamW state");
    return;
  }
  const double h = hidden_size > 0 ? static_cast<double>(hidden_size) : kv;
  const double parameters = n * kv + (kv * h + h) + (h * out + out);
  // The initialisation solves the last layer through a pseudo-inverse: one more copy of it.
  const double solve = (h + 1) * out * sizeof(float);
  check_fits_memory("--encoder-hidden " + std::to_string(hidden_size),
                    adamw_training_bytes(parameters) + solve,
                    "the projection's parameters, gradients, AdamW state and initial solve");
}

}  // namespace ptune::methods

namespace ptune::detail {

void register_method_prefix_tuning() {
  using namespace methods;
  register_peft_schema(prefix_tuning_peft_schema());
  register_method(
      {"prefix-tuning", "Li & Liang 2021: trainable keys/values at every layer", "PREFIX_TUNING",
       config_factory<PrefixTuningConfig>(),
       prompt_factory<PrefixTuningConfig>([](const PrefixTuningConfig& c, const BuildContext& ctx) {
         return std::make_unique<PrefixEncoder>(c, ctx.model, ctx.seed);
       }),
       [](const std::string& dir, const Model& model) -> std::unique_ptr<TrainablePrompt> {
         return std::make_unique<PrefixEncoder>(
             read_prompt_embeddings(dir, "PREFIX_TUNING", model.config()), model.config());
       }});
}

}  // namespace ptune::detail
