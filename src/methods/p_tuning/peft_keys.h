// P-tuning's own keys in a PEFT adapter_config.json (peft/tuners/p_tuning/config.py) and the
// P_TUNING schema (ptune/methods/peft_schema.h). The artifact holds the encoder's output, so the
// keys describe the encoder that made it; loading for inference does not need them.
//
// The lead's register.cpp registers p_tuning_peft_schema(); save() fills a config with
// write_p_tuning_keys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ptune/io/peft_config.h"
#include "ptune/methods/peft_schema.h"

namespace ptune::methods {

struct PTuningPeftKeys {
  std::string encoder = "MLP";                 // encoder_reparameterization_type: MLP | LSTM
  std::optional<int64_t> encoder_hidden_size;  // PEFT fills token_dim when unset
  int64_t encoder_num_layers = 2;              // LSTM layers (the MLP always has 2)
  double encoder_dropout = 0;                  // in [0, 1)
};

// Typed reads (absent keys take PEFT's defaults); throws PeftConfigError naming the key, for a
// wrong type or an encoder other than MLP and LSTM. Checks no ranges.
PTuningPeftKeys read_p_tuning_keys(const peft::PromptLearningConfig& config);
// Sets the four encoder_* keys (encoder_hidden_size null if unset).
void write_p_tuning_keys(peft::PromptLearningConfig& config, const PTuningPeftKeys& keys);

PeftSchema p_tuning_peft_schema();

}  // namespace ptune::methods
