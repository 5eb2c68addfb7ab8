// The soft-prompt layout and the encoder width rule the method schemas share; contract in
// ptune/methods/peft_schema.h. Apart from the schema table (peft_schema.cpp) because it needs no
// method registry: the schemas and these helpers build without libtorch (fuzz/peft_config_fuzz).
#include <string>
#include <vector>

#include "ptune/methods/peft_schema.h"

namespace ptune::methods {

std::vector<uint64_t> soft_prompt_shape(const peft::PromptLearningConfig& c) {
  return {static_cast<uint64_t>(c.num_virtual_tokens) *
              static_cast<uint64_t>(c.num_transformer_submodules),
          static_cast<uint64_t>(c.token_dim)};
}

TensorShapes soft_prompt_tensors(const peft::PromptLearningConfig& c) {
  return {{"prompt_embeddings", soft_prompt_shape(c)}};
}

std::string soft_prompt_shape_rule(const peft::PromptLearningConfig& c, const std::string&) {
  return "[num_virtual_tokens * num_transformer_submodules, token_dim] = [" +
         std::to_string(c.num_virtual_tokens) + " * " +
         std::to_string(c.num_transformer_submodules) + ", " + std::to_string(c.token_dim) + "]";
}

void fill_encoder_hidden_size(peft::PromptLearningConfig& c) {
  if (!peft::key_nullable_int(c, "encoder_hidden_size"))
    c.keys["encoder_hidden_size"] = c.token_dim;
}

}  // namespace ptune::methods
