// The shared CLI options and loading (see common.h): each flag's name, help and checks are
// written here only, so subcommands cannot drift apart.
#include "cli/common.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "cli/limits.h"
#include "ptune/methods/limits.h"
#include "ptune/methods/prompt_artifact.h"
#include "ptune/model/model_path.h"
#include "ptune/runtime/cpu_features.h"
#include "ptune/util/files.h"

namespace ptune::cli {

CLI::Validator in_range(int64_t lo, int64_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& v) {
        std::string err = methods::integer_range_error(v, lo, hi);
        int64_t n = 0;
        if (err.empty() && methods::parse_decimal(v, &n)) v = std::to_string(n);
        return err;
      },
      "in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

CLI::Validator real_in_range(double lo, double hi) {
  return CLI::Validator([lo, hi](std::string& v) { return methods::number_range_error(v, lo, hi); },
                        "in [" + methods::number_text(lo) + ", " + methods::number_text(hi) + "]");
}

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
      ->check(in_range(0, max_threads()))
      ->capture_default_str();
}

void add_task_option(CLI::App* cmd, std::string* path) {
  cmd->add_option("-t,--task", *path, "Task file (task.json; see docs/task-file.md)")
      ->required()
      ->check(CLI::ExistingFile);
}

CLI::Option* add_prompt_text_option(CLI::App* cmd, std::string* text) {
  return cmd
      ->add_option("-p,--prompt", *text,
                   "Prompt text (special-token text such as <|im_start|> is parsed)")
      ->type_name("TEXT");
}

void add_progress_option(CLI::App* cmd, std::string* mode) {
  *mode = "auto";
  cmd->add_option("--progress", *mode,
                  "Progress on stderr: auto (a bar on a terminal, periodic lines otherwise), bar, "
                  "lines or off")
      ->check(CLI::IsMember({"auto", "bar", "lines", "off"}))
      ->capture_default_str();
}

eval::Progress::Mode progress_mode(const std::string& mode) {
  if (mode == "auto") return eval::Progress::Mode::Auto;
  if (mode == "bar") return eval::Progress::Mode::Bar;
  if (mode == "lines") return eval::Progress::Mode::Lines;
  if (mode == "off") return eval::Progress::Mode::Off;
  throw std::invalid_argument("--progress: '" + mode + "' is not auto, bar, lines or off");
}

std::string non_empty_path(const std::string& value) {
  return value.empty() ? "empty path (name a file)" : "";
}

std::string writable_dir_error(const std::string& dir) {
  if (dir.empty()) return "empty path (name a folder)";
  try {
    util::make_dirs(dir);
  } catch (const std::exception& e) {
    return e.what();
  }
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return dir + " is not a folder";
  // Writing is the only test that holds for root, read-only mounts and immutable folders alike.
  std::string probe = dir + "/.ptune-write-check.XXXXXX";
  const int fd = mkstemp(probe.data());
  if (fd < 0) return "cannot write in " + dir + ": " + std::strerror(errno);
  close(fd);
  unlink(probe.c_str());
  return "";
}

void add_out_option(CLI::App* cmd, std::string* dir, const std::string& what, bool required) {
  // Checked while parsing, before any model loads or training starts: work is never lost to an
  // output folder that cannot be written.
  auto* opt = cmd->add_option("-o,--out", *dir, "Write " + what + " to this folder")
                  ->type_name("DIR")
                  ->check(CLI::Validator([](std::string& v) { return writable_dir_error(v); }, "",
                                         "writable folder"));
  if (required) opt->required();
}

void add_limit_option(CLI::App* cmd, size_t* n, const std::string& what) {
  // A sample, not the first N: task files are often sorted by label.
  cmd->add_option("--limit", *n,
                  "Use a seeded, stratified sample of N rows of " + what + " (0 = all)")
      ->type_name("N")
      ->check(in_range(0, kMaxCount))
      ->capture_default_str();
}

void add_shared_prefix_flag(CLI::App* cmd, bool* disable) {
  cmd->add_flag("--no-shared-prefix", *disable,
                "Run every prompt's tokens in full (default: the tokens the prompts start with "
                "run once and their keys/values are reused; same result, less work)");
}

void add_adapter_option(CLI::App* cmd, std::string* path) {
  cmd->add_option("--adapter", *path,
                  "Tuned prompt: a PEFT adapter folder (prompt tuning, P-tuning, prefix tuning) "
                  "or a discrete prompt file (.json)")
      ->check(CLI::ExistingPath);
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
  resolve_device(o);  // --threads and --device apply (and fail) before the file is read
  l.file = std::make_unique<gguf::GgufFile>(gguf::GgufFile::open(o.model));
  l.tokenizer = std::make_unique<Tokenizer>(Tokenizer::from_gguf(*l.file));
  if (with_model) load_model(l, o);
  return l;
}

void load_model(Loaded& l, const ModelOptions& o) {
  const torch::Device device = resolve_device(o);
  auto dtype = o.dtype == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
  if (dtype == torch::kBFloat16 && device.is_cpu() && !cpu_features().bf16_matmul()) {
    throw std::invalid_argument(
        "--dtype bfloat16: this CPU has no bfloat16 matmul hardware (AVX512-BF16 or AMX-BF16), "
        "where libtorch's fallback is many times slower than float32; use --dtype float32");
  }
  // A tokenizer with ids the embedding has no row for would fail mid-run on the first such token.
  const int64_t rows = ModelConfig::from_gguf(*l.file).n_vocab;
  if (l.tokenizer->n_vocab() > rows) {
    throw std::invalid_argument(o.model + ": the tokenizer has " +
                                std::to_string(l.tokenizer->n_vocab()) +
                                " tokens but token_embd.weight has " + std::to_string(rows) +
                                " rows (a broken or mismatched file)");
  }
  l.model = model_from_gguf(*l.file, device, dtype);
}

TunedPrompt load_tuned_prompt(const std::string& path, const Model& model) {
  TunedPrompt t;
  if (path.empty()) return t;
  t.artifact = methods::load_prompt_artifact(path, model);
  // Inference only: no autograd graph behind the keys/values every prompt reuses.
  torch::InferenceMode guard;
  t.state = t.artifact.state(model);
  return t;
}

std::string TunedPrompt::place_in(const std::string& instruction) const {
  try {
    return artifact.place_in(instruction);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--adapter ") + e.what());
  }
}

}  // namespace ptune::cli
