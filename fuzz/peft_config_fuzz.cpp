// libFuzzer target for PEFT's adapter_config.json: peft::parse_config on the input, then the
// method schema named by peft_type (prompt tuning, P-tuning, prefix tuning, multitask: the
// schemas' own functions, as methods::check_config and friends call them), its expected
// tensors and shape rules, filling from and checking against a model's dimensions, and a write
// and read back that must give the same JSON. Only PeftConfigError may escape; anything else
// (a crash, a sanitizer report, another exception, a round trip that changes the config) is a
// finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "methods/p_tuning/peft_keys.h"
#include "methods/prefix_tuning/peft_keys.h"
#include "methods/prompt_tuning/peft_keys.h"
#include "ptune/io/peft_config.h"
#include "ptune/methods/peft_schema.h"

namespace ptune::methods {
PeftSchema multitask_prompt_tuning_peft_schema();  // src/methods/peft_multitask_schema.cpp
}

namespace {

using ptune::methods::PeftSchema;
using ptune::peft::PeftConfigError;
using ptune::peft::PromptLearningConfig;

const PeftSchema* schema_for(const std::string& peft_type) {
  static const PeftSchema schemas[] = {ptune::methods::prompt_tuning_peft_schema(),
                                       ptune::methods::p_tuning_peft_schema(),
                                       ptune::methods::prefix_tuning_peft_schema(),
                                       ptune::methods::multitask_prompt_tuning_peft_schema()};
  for (const PeftSchema& s : schemas)
    if (s.peft_type == peft_type) return &s;
  return nullptr;
}

// A write must read back to the same config: to_json(parse(to_json(c))) == to_json(c).
void check_round_trip(const PromptLearningConfig& c) {
  const std::string text = ptune::peft::to_json(c);
  PromptLearningConfig again;
  try {
    again = ptune::peft::parse_config(text);
  } catch (const PeftConfigError&) {
    std::abort();  // what ptune writes, ptune must read
  }
  if (ptune::peft::to_json(again) != text) std::abort();
}

void check_schema(PromptLearningConfig c, const PeftSchema& s) {
  if (s.validate_keys) s.validate_keys(c);
  for (const auto& [name, shape] : s.expected_tensors(c)) {
    if (name.empty()) std::abort();
    (void)shape;
    (void)s.shape_rule(c, name);
  }
  // SmolLM2-135M's dimensions (grouped-query attention: 9 heads, 3 key/value heads).
  ptune::peft::ModelDims model{576, 30, 9, 3, 64};
  ptune::peft::check_against_model(c, model, s.kv_width);
  ptune::peft::fill_from_model(c, model, s.kv_width);
  if (s.fill_keys) s.fill_keys(c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  PromptLearningConfig c;
  try {
    c = ptune::peft::parse_config(text);
  } catch (const PeftConfigError&) {
    return 0;
  }
  check_round_trip(c);
  const PeftSchema* s = schema_for(c.peft_type);
  if (s == nullptr) return 0;
  try {
    check_schema(c, *s);
  } catch (const PeftConfigError&) {
  }
  return 0;
}
