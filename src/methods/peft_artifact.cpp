// prompt_embeddings <-> PEFT artifact directories; contract in methods/peft_artifact.h.
#include "methods/peft_artifact.h"

#include <cmath>
#include <filesystem>

#include "ptune/io/safetensors.h"
#include "ptune/methods/peft_schema.h"

namespace ptune::methods {

peft::ModelDims model_dims(const ModelConfig& m) {
  peft::ModelDims d;
  d.hidden_size = m.n_embd;
  d.num_layers = m.n_layer;
  d.num_heads = m.n_head;
  d.num_kv_heads = m.n_head_kv;
  d.head_dim = m.head_dim;
  return d;
}

torch::Tensor read_prompt_embeddings(const std::string& dir, const std::string& expected,
                                     const ModelConfig& model) {
  peft::Adapter a = read_artifact(dir);
  if (a.config.peft_type != expected) {
    throw peft::PeftConfigError(dir + ": adapter is " + a.config.peft_type + ", expected " +
                                expected);
  }
  check_against_model(a.config, model_dims(model));
  const safetensors::Tensor& t = a.weights.get("prompt_embeddings");
  std::vector<float> values = t.to_float();
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {  // would make every score NaN: refuse, never guess
      throw peft::PeftConfigError(dir + ": prompt_embeddings holds a non-finite value (" +
                                  std::to_string(values[i]) + " at flat index " +
                                  std::to_string(i) + ")");
    }
  }
  std::vector<int64_t> shape(t.shape.begin(), t.shape.end());
  return torch::from_blob(values.data(), shape, torch::kFloat32).clone();
}

peft::PromptLearningConfig artifact_config(const std::string& peft_type, int64_t n_virtual,
                                           const std::string& base_model) {
  peft::PromptLearningConfig c = new_peft_config(peft_type);
  c.num_virtual_tokens = n_virtual;
  c.base_model_name_or_path = base_model;
  return c;
}

void write_prompt_embeddings(const std::string& dir, peft::PromptLearningConfig c,
                             const torch::Tensor& embeddings, const ModelConfig& model) {
  fill_from_model(c, model_dims(model));
  torch::Tensor cpu = embeddings.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  std::vector<float> values(cpu.data_ptr<float>(), cpu.data_ptr<float>() + cpu.numel());
  std::vector<uint64_t> shape(cpu.sizes().begin(), cpu.sizes().end());
  std::filesystem::create_directories(dir);
  write_artifact(dir, c, {safetensors::make_f32("prompt_embeddings", shape, values)});
}

}  // namespace ptune::methods
