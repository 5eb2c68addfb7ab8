// Prefix tuning's registry entry and config (the options `ptune tune --method prefix-tuning`
// takes).
#include <stdexcept>

#include "methods/peft_artifact.h"
#include "methods/prefix_tuning/peft_keys.h"
#include "ptune/methods/peft_schema.h"
#include "ptune/methods/prefix_tuning.h"

namespace ptune::methods {

void PrefixTuningConfig::describe(ConfigFields& f) {
  f.add("virtual-tokens", &virtual_tokens, "Prefix length in virtual tokens");
  f.add("prefix-projection", &projection,
        "Learn the prefix through an MLP (Li & Liang's reparameterisation)");
  f.add("encoder-hidden", &hidden_size,
        "With --prefix-projection: MLP hidden size (0 = kv_heads * head_dim, PEFT's default)");
}

void PrefixTuningConfig::validate() const {
  if (virtual_tokens < 1) throw std::invalid_argument("--virtual-tokens must be >= 1");
  if (hidden_size < 0) throw std::invalid_argument("--encoder-hidden must be >= 0");
  if (hidden_size > 0 && !projection) {
    throw std::invalid_argument("--encoder-hidden is only used with --prefix-projection");
  }
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
