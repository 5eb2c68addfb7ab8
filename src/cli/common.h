// Options and loading shared by the CLI subcommands.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "ptune/io/gguf.h"
#include "ptune/model/llama.h"
#include "ptune/tokenizer/tokenizer.h"

namespace ptune::cli {

struct ModelOptions {
  std::string model;  // defaults to default_model_path()
  std::string device = "cpu";
  std::string dtype = "float32";  // matmul dtype: float32 | bfloat16
  int threads = 0;                // 0 = libtorch default
};

// Adds -m/--model, --device, --dtype and --threads to a subcommand.
void add_model_options(CLI::App* cmd, ModelOptions* opts);

// Applies --threads and resolves --device; throws std::runtime_error for CUDA without support.
torch::Device resolve_device(const ModelOptions& opts);

// The opened GGUF plus what was built from it. The model is loaded only when asked.
struct Loaded {
  std::unique_ptr<gguf::GgufFile> file;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<LlamaModel> model;
};
Loaded load(const ModelOptions& opts, bool with_model);

// Registration of each subcommand; each adds itself to `app` and sets its callback.
void register_info(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_logits(CLI::App& app);
void register_generate(CLI::App& app);
void register_chat(CLI::App& app);
void register_tune(CLI::App& app);
void register_eval(CLI::App& app);

}  // namespace ptune::cli
