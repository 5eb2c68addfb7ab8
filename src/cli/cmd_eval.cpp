// ptune eval: score a task's examples with a model and report metrics with 95% CIs.
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <vector>

#include "cli/common.h"
#include "ptune/eval/evaluator.h"
#include "ptune/methods/adapter.h"
#include "ptune/tasks/task.h"

namespace ptune::cli {

namespace {

void make_dirs(const std::string& dir) {
  std::string cur;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      if (!cur.empty() && mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
        throw std::runtime_error("--out: cannot create " + cur + ": " + std::strerror(errno));
      }
    }
    if (i < dir.size()) cur += dir[i];
  }
}

void write_outputs(const std::string& dir, const eval::EvalResult& r) {
  make_dirs(dir);
  const auto dump = [](const nlohmann::json& j, int indent) {
    return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  std::ofstream ex(dir + "/examples.jsonl");
  for (const auto& rec : r.records) ex << dump(rec, -1) << "\n";
  std::ofstream sum(dir + "/summary.json");
  sum << dump(r.summary, 2) << "\n";
  if (!ex || !sum) throw std::runtime_error("--out: cannot write to " + dir);
}

}  // namespace

void register_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "eval",
      "Evaluate a model on a task: rank classification over the verbalizers (classification, "
      "multiple choice) or decoding (generation, qa), metrics with bootstrap 95% CIs.\n"
      "Prints a table on stdout; a progress bar (or periodic lines) on stderr; with --out writes "
      "DIR/examples.jsonl (one record per example: input, prediction, gold, per-label scores) and "
      "DIR/summary.json. See "
      "docs/eval.md.");
  static ModelOptions model_opts;
  static std::string task_path, out_dir, normalize, progress_mode = "auto", adapter_dir;
  static eval::EvalOptions o;
  static int shots = -1, max_tokens = 0;
  static int64_t seed = -1;
  static double temperature = -1;
  static bool calibrate = false, no_calibrate = false, no_prefix_cache = false, json_out = false,
              skip_bad = false;
  ModelOptions* mo = &model_opts;
  add_model_options(cmd, mo);
  cmd->add_option("-t,--task", task_path, "Task file (task.json; see docs/task-file.md)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--template", o.template_name,
                  "Prompt template: 'default' or a key of the task's \"templates\"")
      ->capture_default_str();
  cmd->add_option("--shots", shots, "Few-shot demonstrations per prompt (default: few_shot.k)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--split", o.split, "Examples to evaluate: train, dev, test or all")
      ->check(CLI::IsMember({"train", "dev", "test", "all"}))
      ->capture_default_str();
  cmd->add_option("--limit", o.limit, "Evaluate the first N examples only (0 = all)")
      ->capture_default_str();
  cmd->add_option("--out", out_dir, "Write examples.jsonl and summary.json to this folder");
  cmd->add_option("--seed", seed,
                  "Seed for demo selection (overrides few_shot.seed), sampling and the bootstrap "
                  "(default: the task's few_shot.seed, 0, 0)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch-size", o.scorer.batch_size, "Prompts per forward pass")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--show-prompt", o.show_prompt, "Include each rendered prompt in examples.jsonl");
  cmd->add_flag("--no-prefix-cache", no_prefix_cache,
                "Run every prompt in full instead of reusing the shared prefix's KV cache");
  cmd->add_flag("--calibrate", calibrate, "Contextual calibration on (overrides the task)");
  cmd->add_flag("--no-calibrate", no_calibrate, "Contextual calibration off (overrides the task)");
  cmd->add_option("--normalize", normalize,
                  "Label score: sum or mean of the continuation's token log-probs (default: "
                  "scoring.normalize)")
      ->check(CLI::IsMember({"sum", "mean"}));
  cmd->add_option("--max-tokens", max_tokens, "Generation: new tokens at most (default: task)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--temperature", temperature, "Generation: 0 = greedy (default: task)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--bootstrap", o.bootstrap_resamples, "Bootstrap resamples for the 95% CIs")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--progress", progress_mode,
                  "auto (bar on a terminal, periodic lines otherwise), bar, lines or off")
      ->check(CLI::IsMember({"auto", "bar", "lines", "off"}))
      ->capture_default_str();
  cmd->add_flag("--json", json_out, "Print the summary JSON instead of the table");
  cmd->add_option("--adapter", adapter_dir,
                  "Evaluate through a prompt adapter (PEFT format: prompt tuning, P-tuning or "
                  "prefix tuning); its virtual tokens precede every prompt")
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("--skip-bad", skip_bad,
                "Skip malformed data rows (counted, with reasons, in the table and summary) "
                "instead of stopping at the first (overrides data.skip_bad)");
  cmd->callback([mo] {
    if (calibrate && no_calibrate) throw std::invalid_argument("--calibrate and --no-calibrate");
    if (shots >= 0) o.shots = static_cast<size_t>(shots);
    if (seed >= 0) o.seed = static_cast<uint64_t>(seed);
    if (calibrate) o.calibration = true;
    if (no_calibrate) o.calibration = false;
    if (!normalize.empty()) {
      o.normalize =
          normalize == "mean" ? tasks::ScoreNormalization::Mean : tasks::ScoreNormalization::Sum;
    }
    if (max_tokens > 0) o.max_tokens = max_tokens;
    if (temperature >= 0) o.temperature = temperature;
    o.scorer.prefix_cache = !no_prefix_cache;
    // Load the task and data first: a bad task file fails before the model loads.
    tasks::TaskSpec task = tasks::load_task(task_path);
    if (skip_bad) task.data.skip_bad = true;
    const tasks::TaskData data = tasks::load_task_data(task);
    Loaded l = load(*mo, /*with_model=*/true);
    o.model_name = mo->model.substr(mo->model.find_last_of('/') + 1);
    PastKV adapter_state;
    if (!adapter_dir.empty()) {
      torch::InferenceMode guard;
      adapter_state = methods::Adapter::load(adapter_dir, l.model->config()).prefix_state(*l.model);
      o.scorer.base = &adapter_state;
    }
    const auto mode = progress_mode == "bar"     ? eval::Progress::Mode::Bar
                      : progress_mode == "lines" ? eval::Progress::Mode::Lines
                      : progress_mode == "off"   ? eval::Progress::Mode::Off
                                                 : eval::Progress::Mode::Auto;
    eval::Progress progress(stderr, mode);
    const eval::EvalResult r = eval::run_eval(task, data, *l.model, *l.tokenizer, o, &progress);
    if (!out_dir.empty()) write_outputs(out_dir, r);
    if (json_out) {
      std::cout << r.summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      std::cout << eval::format_report(r);
      if (!out_dir.empty()) std::cout << "\nwrote " << out_dir << "/examples.jsonl, summary.json\n";
    }
  });
}

}  // namespace ptune::cli
