// P-tuning's PEFT keys and schema; contract in methods/p_tuning/peft_keys.h.
#include "methods/p_tuning/peft_keys.h"

#include <cstdio>

namespace ptune::methods {

using peft::PeftConfigError;
using json = nlohmann::json;

PTuningPeftKeys read_p_tuning_keys(const peft::PromptLearningConfig& c) {
  PTuningPeftKeys k;
  k.encoder = peft::key_enum(c, "encoder_reparameterization_type", k.encoder, {"MLP", "LSTM"});
  k.encoder_hidden_size = peft::key_nullable_int(c, "encoder_hidden_size");
  k.encoder_num_layers = peft::key_int(c, "encoder_num_layers", k.encoder_num_layers);
  k.encoder_dropout = peft::key_double(c, "encoder_dropout", k.encoder_dropout);
  return k;
}

void write_p_tuning_keys(peft::PromptLearningConfig& c, const PTuningPeftKeys& k) {
  c.keys["encoder_reparameterization_type"] = k.encoder;
  c.keys["encoder_hidden_size"] = k.encoder_hidden_size ? json(*k.encoder_hidden_size) : json();
  c.keys["encoder_num_layers"] = k.encoder_num_layers;
  c.keys["encoder_dropout"] = k.encoder_dropout;
}

namespace {

void check_keys(const peft::PromptLearningConfig& c) {
  const PTuningPeftKeys k = read_p_tuning_keys(c);
  if (k.encoder_num_layers <= 0) {
    throw PeftConfigError("key 'encoder_num_layers' must be positive, got " +
                          std::to_string(k.encoder_num_layers));
  }
  if (!(k.encoder_dropout >= 0.0 && k.encoder_dropout < 1.0)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", k.encoder_dropout);
    throw PeftConfigError(std::string("key 'encoder_dropout' must be in [0, 1), got ") + buf);
  }
  if (k.encoder_hidden_size && *k.encoder_hidden_size <= 0) {
    throw PeftConfigError("key 'encoder_hidden_size' must be positive, got " +
                          std::to_string(*k.encoder_hidden_size));
  }
}

}  // namespace

PeftSchema p_tuning_peft_schema() {
  PeftSchema s;
  s.peft_type = "P_TUNING";
  s.defaults = {{"encoder_dropout", 0.0},
                {"encoder_hidden_size", nullptr},
                {"encoder_num_layers", 2},
                {"encoder_reparameterization_type", "MLP"}};
  s.validate_keys = check_keys;
  s.fill_keys = fill_encoder_hidden_size;
  s.expected_tensors = soft_prompt_tensors;
  s.shape_rule = soft_prompt_shape_rule;
  return s;
}

}  // namespace ptune::methods
