#include "cli/common.h"

#include <stdexcept>

#include "ptune/model/model_path.h"

namespace ptune::cli {

void add_model_options(CLI::App* cmd, ModelOptions* o) {
  o->model = default_model_path();
  cmd->add_option("-m,--model", o->model, "GGUF model file")->capture_default_str();
  cmd->add_option("--device", o->device, "cpu or cuda (cuda needs a libtorch built with CUDA)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  cmd->add_option(
         "--dtype", o->dtype,
         "Matmul precision: float32 (reference) or bfloat16 (faster; logits off by up to ~0.7)")
      ->check(CLI::IsMember({"float32", "bfloat16"}))
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "CPU threads for libtorch (0 = its default)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

torch::Device resolve_device(const ModelOptions& o) {
  if (o.threads > 0) torch::set_num_threads(o.threads);
  if (o.device == "cuda") {
    if (!torch::cuda::is_available()) {
      throw std::runtime_error("--device cuda: this libtorch has no CUDA or no GPU is visible");
    }
    return torch::Device(torch::kCUDA);
  }
  return torch::Device(torch::kCPU);
}

Loaded load(const ModelOptions& o, bool with_model) {
  Loaded l;
  torch::Device device = resolve_device(o);
  l.file = std::make_unique<gguf::GgufFile>(gguf::GgufFile::open(o.model));
  l.tokenizer = std::make_unique<Tokenizer>(Tokenizer::from_gguf(*l.file));
  if (with_model) {
    auto dtype = o.dtype == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
    l.model = std::make_unique<LlamaModel>(LlamaModel::from_gguf(*l.file, device, dtype));
  }
  return l;
}

}  // namespace ptune::cli
