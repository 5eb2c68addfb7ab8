// The CLI's one vocabulary: every option more than one subcommand takes is defined here, once, so
// the same flag means the same thing (name, help, checks, default) wherever it appears. Also the
// loading every subcommand shares (model file, tokenizer, model, tuned prompt).
//
// Options are stored in a per-subcommand struct that the subcommand's callback owns (a
// shared_ptr captured by the callback), never in function-level statics: CLI11 writes into the
// struct while parsing, and the struct lives exactly as long as the App that holds the callback.
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "ptune/eval/progress.h"
#include "ptune/io/gguf.h"
#include "ptune/methods/prompt_artifact.h"
#include "ptune/model/model.h"
#include "ptune/tokenizer/tokenizer.h"

namespace ptune::cli {

struct ModelOptions {
  std::string model;  // defaults to default_model_path()
  std::string device = "cpu";
  std::string dtype = "float32";  // matmul dtype: float32 | bfloat16
  int threads = 0;                // 0 = libtorch default; at most max_threads() (limits.h)
};

// Adds -m/--model, --device, --dtype and --threads to a subcommand (every subcommand has them).
void add_model_options(CLI::App* cmd, ModelOptions* opts);

// --- Range checks: every numeric flag has one (bounds: cli/limits.h) -------------------------

// A CLI11 check that the value is a decimal integer in [lo, hi], refused with a message that
// names the flag, the value and the range ("--batch-size: 0 is not between 1 and 4096"). With
// lo >= 0 it is also the sign check unsigned options need: CLI11 itself reads "-1" into a
// size_t as 2^64 - 1, and clamps text past 64 bits; here both are errors. The accepted text is
// rewritten in plain decimal, so CLI11 cannot read "010" as octal.
CLI::Validator in_range(int64_t lo, int64_t hi);
// The same for a finite number in [lo, hi] (NaN and infinities are refused).
CLI::Validator real_in_range(double lo, double hi);

// --- Shared options: one definition per flag -----------------------------------------------

// -t/--task FILE: the task file (docs/task-file.md); required.
void add_task_option(CLI::App* cmd, std::string* path);
// -p/--prompt TEXT: prompt text, special-token text parsed. Returned so that the caller can make
// it required or exclusive with another input.
CLI::Option* add_prompt_text_option(CLI::App* cmd, std::string* text);
// --progress auto|bar|lines|off on stderr; sets *mode to the default, "auto".
void add_progress_option(CLI::App* cmd, std::string* mode);
// The Progress mode a --progress value names; throws std::invalid_argument for any other value.
eval::Progress::Mode progress_mode(const std::string& mode);
// -o/--out DIR: the folder the subcommand writes `what` to (e.g. "examples.jsonl and
// summary.json"). Made (mkdir -p) and test-written while parsing, so an empty path, a file, or a
// folder that cannot be written is an error before any work.
void add_out_option(CLI::App* cmd, std::string* dir, const std::string& what, bool required);
// Rejects an empty value given explicitly (`-o ""`), for options naming one file.
std::string non_empty_path(const std::string& value);
// "" when `dir` is (after util::make_dirs) a folder this process can create files in, else why not.
std::string writable_dir_error(const std::string& dir);
// --limit N: a seeded, stratified sample of N rows of `what` (e.g. "the split"); 0 = all.
void add_limit_option(CLI::App* cmd, size_t* n, const std::string& what);
// --no-shared-prefix: run every prompt's tokens in full instead of running the tokens the
// prompts share once and reusing their keys/values (the same result to float rounding).
void add_shared_prefix_flag(CLI::App* cmd, bool* disable);
// --adapter PATH: a tuned prompt, a PEFT adapter folder or a discrete prompt file (.json).
void add_adapter_option(CLI::App* cmd, std::string* path);

// --- Loading ----------------------------------------------------------------------------------

// Applies --threads and resolves --device; throws std::runtime_error for CUDA without support.
torch::Device resolve_device(const ModelOptions& opts);

// The opened GGUF plus what was built from it. The model is loaded only when asked.
struct Loaded {
  std::unique_ptr<gguf::GgufFile> file;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<Model> model;
};
Loaded load(const ModelOptions& opts, bool with_model);
// Loads the weights into a Loaded that has none yet: a command that checks what its options
// need of the model (its config, from the file) does so between load(opts, false) and this.
void load_model(Loaded& loaded, const ModelOptions& opts);

// The tuned prompt given with --adapter (either kind, methods/prompt_artifact.h), loaded once:
// the one place eval, generate and chat load it.
struct TunedPrompt {
  methods::PromptArtifact artifact;  // empty path: no --adapter
  PastKV state;                      // a continuous prompt's keys/values, [1, Hkv, N, D] per layer

  // What to prepend to every prompt as past keys/values; null for none or a discrete prompt.
  const PastKV* past() const { return state.empty() ? nullptr : &state; }
  const tasks::DiscretePrompt* discrete() const {
    return artifact.discrete ? &*artifact.discrete : nullptr;
  }
  // For generate and chat, which have no task template: the instruction (a system message, or
  // the text before a plain prompt) with a discrete prompt placed as its placement says.
  // Throws std::invalid_argument for a slot placement, which needs a task template (eval).
  std::string place_in(const std::string& instruction) const;
};
TunedPrompt load_tuned_prompt(const std::string& path, const Model& model);  // "" = none

// Registration of each subcommand; each adds itself to `app` and sets its callback.
void register_info(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_logits(CLI::App& app);
void register_generate(CLI::App& app);
void register_chat(CLI::App& app);
void register_tune(CLI::App& app);
void register_eval(CLI::App& app);
void register_runs(CLI::App& app);
void register_report(CLI::App& app);
void register_serve(CLI::App& app);
void register_search(CLI::App& app);

}  // namespace ptune::cli
