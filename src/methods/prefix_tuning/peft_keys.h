// Prefix tuning's own keys in a PEFT adapter_config.json (peft/tuners/prefix_tuning/config.py)
// and the PREFIX_TUNING schema (ptune/methods/peft_schema.h): prompt_embeddings is
// [num_virtual_tokens, num_layers * 2 * token_dim], and with grouped-query attention token_dim
// is the key/value width (head_dim * num_key_value_heads), num_attention_heads the key/value
// heads (kv_width). With prefix_projection the tensor is the projection's output.
//
// The lead's register.cpp registers prefix_tuning_peft_schema(); save() fills a config with
// write_prefix_tuning_keys.
#pragma once

#include <cstdint>
#include <optional>

#include "ptune/io/peft_config.h"
#include "ptune/methods/peft_schema.h"

namespace ptune::methods {

struct PrefixTuningPeftKeys {
  bool prefix_projection = false;              // trained through an MLP
  std::optional<int64_t> encoder_hidden_size;  // the MLP's width; PEFT fills token_dim when unset
};

// Typed reads (absent keys take PEFT's defaults); throws PeftConfigError naming the key.
PrefixTuningPeftKeys read_prefix_tuning_keys(const peft::PromptLearningConfig& config);
// Sets prefix_projection and encoder_hidden_size (null if unset); init_weights stays as it is.
void write_prefix_tuning_keys(peft::PromptLearningConfig& config, const PrefixTuningPeftKeys& keys);

PeftSchema prefix_tuning_peft_schema();

}  // namespace ptune::methods
