// Prefix tuning's PEFT keys and schema; contract in methods/prefix_tuning/peft_keys.h.
#include "methods/prefix_tuning/peft_keys.h"

namespace ptune::methods {

using peft::PeftConfigError;
using json = nlohmann::json;

PrefixTuningPeftKeys read_prefix_tuning_keys(const peft::PromptLearningConfig& c) {
  PrefixTuningPeftKeys k;
  k.prefix_projection = peft::key_bool(c, "prefix_projection", k.prefix_projection);
  k.encoder_hidden_size = peft::key_nullable_int(c, "encoder_hidden_size");
  return k;
}

void write_prefix_tuning_keys(peft::PromptLearningConfig& c, const PrefixTuningPeftKeys& k) {
  c.keys["prefix_projection"] = k.prefix_projection;
  c.keys["encoder_hidden_size"] = k.encoder_hidden_size ? json(*k.encoder_hidden_size) : json();
}

namespace {

void check_keys(const peft::PromptLearningConfig& c) {
  const PrefixTuningPeftKeys k = read_prefix_tuning_keys(c);
  if (k.encoder_hidden_size && *k.encoder_hidden_size <= 0) {
    throw PeftConfigError("key 'encoder_hidden_size' must be positive, got " +
                          std::to_string(*k.encoder_hidden_size));
  }
  // Each layer's keys (and values) split into num_attention_heads heads.
  if (c.num_attention_heads > 0 && c.token_dim % c.num_attention_heads != 0) {
    throw PeftConfigError("prefix tuning: token_dim " + std::to_string(c.token_dim) +
                          " is not a multiple of num_attention_heads " +
                          std::to_string(c.num_attention_heads));
  }
}

}  // namespace

PeftSchema prefix_tuning_peft_schema() {
  PeftSchema s;
  s.peft_type = "PREFIX_TUNING";
  s.defaults = {
      {"encoder_hidden_size", nullptr}, {"init_weights", nullptr}, {"prefix_projection", false}};
  s.kv_width = true;
  s.validate_keys = check_keys;
  s.fill_keys = fill_encoder_hidden_size;
  s.expected_tensors = [](const peft::PromptLearningConfig& c) {
    const auto n = static_cast<uint64_t>(c.num_virtual_tokens);
    const auto width = static_cast<uint64_t>(c.num_layers) * 2 * static_cast<uint64_t>(c.token_dim);
    return TensorShapes{{"prompt_embeddings", {n, width}}};
  };
  s.shape_rule = [](const peft::PromptLearningConfig& c, const std::string&) {
    return "[num_virtual_tokens, num_layers * 2 * token_dim] = [" +
           std::to_string(c.num_virtual_tokens) + ", " + std::to_string(c.num_layers) + " * 2 * " +
           std::to_string(c.token_dim) + "]";
  };
  return s;
}

}  // namespace ptune::methods
