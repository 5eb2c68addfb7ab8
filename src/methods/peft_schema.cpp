// The PEFT schema table and the schema-dependent checks; contract in ptune/methods/peft_schema.h.
#include "ptune/methods/peft_schema.h"

#include <stdexcept>

#include "ptune/methods/registry.h"
#include "ptune/util/registry.h"

namespace ptune::methods {

// src/methods/peft_multitask_schema.cpp: MULTITASK_PROMPT_TUNING has no method folder (and so
// no register.cpp) yet, so its schema registers here with the built-ins.
PeftSchema multitask_prompt_tuning_peft_schema();

using peft::PeftConfigError;

namespace {

// The method folders' registrations add their schemas while registered_methods() runs them, so
// the built-ins here are MULTITASK_PROMPT_TUNING's and then every method's.
util::Registry<PeftSchema>& schemas() {
  static util::Registry<PeftSchema> r("peft_type", [] {
    register_peft_schema(multitask_prompt_tuning_peft_schema());
    registered_methods();
  });
  return r;
}

std::string shape_str(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

bool is_float(safetensors::Dtype d) {
  using safetensors::Dtype;
  return d == Dtype::F32 || d == Dtype::F16 || d == Dtype::BF16 || d == Dtype::F64;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// the table

void register_peft_schema(PeftSchema s) {
  if (s.peft_type.empty()) throw std::invalid_argument("register_peft_schema: empty peft_type");
  if (!s.expected_tensors || !s.shape_rule) {
    throw std::invalid_argument("register_peft_schema: '" + s.peft_type + "' lacks a function");
  }
  if (!s.defaults.is_object()) {
    throw std::invalid_argument("register_peft_schema: '" + s.peft_type +
                                "' defaults must be a JSON object");
  }
  const std::string type = s.peft_type;
  schemas().add(type, std::move(s));
}

const PeftSchema* find_peft_schema(const std::string& peft_type) {
  return schemas().find(peft_type);
}

const PeftSchema& peft_schema(const std::string& peft_type) {
  if (const PeftSchema* s = find_peft_schema(peft_type)) return *s;
  throw PeftConfigError(
      peft::unknown_value_message("peft_type", peft_type, registered_peft_types()));
}

std::vector<std::string> registered_peft_types() {
  return schemas().names();
}

// ---------------------------------------------------------------------------------------------
// configs

peft::PromptLearningConfig new_peft_config(const std::string& peft_type) {
  peft::PromptLearningConfig c;
  c.peft_type = peft_type;
  c.keys = peft_schema(peft_type).defaults;
  return c;
}

void check_config(const peft::PromptLearningConfig& c) {
  c.validate();
  const PeftSchema& s = peft_schema(c.peft_type);
  if (s.validate_keys) s.validate_keys(c);
}

void fill_from_model(peft::PromptLearningConfig& c, const peft::ModelDims& model) {
  const PeftSchema& s = peft_schema(c.peft_type);
  peft::fill_from_model(c, model, s.kv_width);
  if (s.fill_keys) s.fill_keys(c);
}

void check_against_model(const peft::PromptLearningConfig& c, const peft::ModelDims& model) {
  peft::check_against_model(c, model, peft_schema(c.peft_type).kv_width);
}

// ---------------------------------------------------------------------------------------------
// tensors

TensorShapes expected_tensors(const peft::PromptLearningConfig& c) {
  return peft_schema(c.peft_type).expected_tensors(c);
}

void check_tensor_shape(const peft::PromptLearningConfig& c, const std::string& name,
                        const std::vector<uint64_t>& shape) {
  const PeftSchema& s = peft_schema(c.peft_type);
  for (const auto& [want_name, want] : s.expected_tensors(c)) {
    if (want_name != name) continue;
    if (shape != want) {
      throw PeftConfigError(c.peft_type + " tensor '" + name + "' has shape " + shape_str(shape) +
                            ", expected " + s.shape_rule(c, name));
    }
    return;
  }
  throw PeftConfigError(c.peft_type + " adapters hold no tensor '" + name + "'");
}

void check_tensors(const peft::PromptLearningConfig& c, const safetensors::File& file) {
  for (const auto& t : file.tensors) check_tensor_shape(c, t.name, t.shape);
  for (const auto& [name, shape] : expected_tensors(c)) {
    const safetensors::Tensor* t = file.find(name);
    if (!t) throw PeftConfigError(c.peft_type + " adapter has no tensor '" + name + "'");
    if (!is_float(t->dtype)) {
      throw PeftConfigError("tensor '" + name + "' has dtype " + safetensors::dtype_name(t->dtype) +
                            ", expected a float type");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// artifacts

peft::Adapter read_artifact(const std::string& dir) {
  peft::Adapter a = peft::load_adapter(dir);
  try {
    check_config(a.config);
  } catch (const PeftConfigError& e) {
    throw PeftConfigError(dir + "/adapter_config.json: " + e.what());
  }
  try {
    check_tensors(a.config, a.weights);
  } catch (const PeftConfigError& e) {
    throw PeftConfigError(dir + ": " + e.what());
  }
  return a;
}

void write_artifact(const std::string& dir, peft::PromptLearningConfig c,
                    const std::vector<safetensors::Tensor>& tensors) {
  c.validate();  // before touching keys: they must be an object
  for (const auto& [key, value] : peft_schema(c.peft_type).defaults.items()) {
    if (!c.keys.contains(key)) c.keys[key] = value;  // PEFT writes every key of the method
  }
  check_config(c);
  safetensors::File f;
  f.tensors = tensors;
  check_tensors(c, f);
  peft::save_adapter(dir, c, tensors);
}

}  // namespace ptune::methods
