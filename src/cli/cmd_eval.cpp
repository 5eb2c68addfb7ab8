// ptune eval: score a task's examples with a model (optionally through a tuned prompt) and report
// metrics with 95% CIs: a table on stdout (or the summary JSON), progress on stderr, and with
// --out the per-example records and the summary as files. Options that override the task file
// are unset (negative / empty) unless given.
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include "cli/common.h"
#include "cli/limits.h"
#include "cli/recording.h"
#include "ptune/eval/evaluator.h"
#include "ptune/eval/remote_eval.h"
#include "ptune/tasks/task.h"
#include "ptune/util/files.h"

namespace ptune::cli {

namespace {

// --endpoint: the model behind an OpenAI-compatible API instead of a local GGUF file.
struct RemoteCmdOptions {
  std::string endpoint, model, scoring = "auto", api_key_env, cache;
  int concurrency = 4, retries = 5;
  double timeout = 120;
};

struct EvalCmdOptions {
  ModelOptions model;
  RemoteCmdOptions remote;
  CLI::Option* model_flag = nullptr;  // -m, to tell a given model from the default
  RecordOptions record;
  eval::EvalOptions eval;  // written directly where a flag maps one to one
  std::string task_path, out_dir, normalize, progress, adapter;
  int shots = -1, max_tokens = 0;
  int64_t seed = -1;
  double temperature = -1;
  bool calibrate = false, no_calibrate = false, no_shared_prefix = false, json_out = false,
       skip_bad = false;
};

// The files written to --out, for the run's record.
std::vector<runs::Artifact> write_outputs(const std::string& dir, const eval::EvalResult& r,
                                          runs::Recorder* recorder) {
  util::make_dirs(dir);
  const auto dump = [](const nlohmann::json& j, int indent) {
    return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  std::ofstream ex(dir + "/examples.jsonl");
  for (const auto& rec : r.records) ex << dump(rec, -1) << "\n";
  std::ofstream sum(dir + "/summary.json");
  sum << dump(r.summary, 2) << "\n";
  ex.close();
  sum.close();
  if (!ex || !sum) throw std::runtime_error("--out: cannot write to " + dir);
  if (!recorder) return {};
  return {recorder->artifact(dir + "/examples.jsonl", "examples"),
          recorder->artifact(dir + "/summary.json", "summary")};
}

// What is evaluated and how it is prompted.
void add_prompt_options(CLI::App* cmd, EvalCmdOptions* o) {
  add_task_option(cmd, &o->task_path);
  cmd->add_option("--template", o->eval.template_name,
                  "Prompt template: 'default' or a key of the task's \"templates\"")
      ->capture_default_str();
  cmd->add_option("--shots", o->shots, "Few-shot demonstrations per prompt (default: few_shot.k)")
      ->check(in_range(0, kMaxShots));
  cmd->add_option("--split", o->eval.split, "Examples to evaluate: train, dev, test or all")
      ->check(CLI::IsMember({"train", "dev", "test", "all"}))
      ->capture_default_str();
  add_limit_option(cmd, &o->eval.limit, "the split");
  cmd->add_option("--seed", o->seed,
                  "Seed for demo selection (overrides few_shot.seed), sampling and the bootstrap "
                  "(default: the task's few_shot.seed, 0, 0)")
      ->check(in_range(0, kMaxSeed));
  add_adapter_option(cmd, &o->adapter);
  cmd->add_flag("--skip-bad", o->skip_bad,
                "Skip malformed data rows (counted, with reasons, in the table and summary) "
                "instead of stopping at the first (overrides data.skip_bad)");
}

// How examples are scored or decoded.
void add_scoring_options(CLI::App* cmd, EvalCmdOptions* o) {
  cmd->add_option("--batch-size", o->eval.scorer.batch_size, "Prompts per forward pass")
      ->check(in_range(1, kMaxBatchSize))
      ->capture_default_str();
  add_shared_prefix_flag(cmd, &o->no_shared_prefix);
  cmd->add_flag("--calibrate", o->calibrate, "Contextual calibration on (overrides the task)");
  cmd->add_flag("--no-calibrate", o->no_calibrate,
                "Contextual calibration off (overrides the task)");
  cmd->add_option("--normalize", o->normalize,
                  "Label score: sum or mean of the continuation's token log-probs (default: "
                  "scoring.normalize)")
      ->check(CLI::IsMember({"sum", "mean"}));
  cmd->add_option("--max-tokens", o->max_tokens, "Generation: new tokens at most (default: task)")
      ->check(in_range(1, kMaxNewTokens));
  cmd->add_option("--temperature", o->temperature, "Generation: 0 = greedy (default: task)")
      ->check(real_in_range(0, kMaxTemperature));
  cmd->add_option("--bootstrap", o->eval.bootstrap_resamples, "Bootstrap resamples for the 95% CIs")
      ->check(in_range(1, kMaxBootstrap))
      ->capture_default_str();
}

// What is printed and written.
void add_output_options(CLI::App* cmd, EvalCmdOptions* o) {
  add_out_option(cmd, &o->out_dir, "examples.jsonl and summary.json", /*required=*/false);
  cmd->add_flag("--show-prompt", o->eval.show_prompt,
                "Include each rendered prompt in examples.jsonl");
  add_progress_option(cmd, &o->progress);
  cmd->add_flag("--json", o->json_out, "Print the summary JSON instead of the table");
}

// A model behind an API: where, which, how it is scored and how calls are made.
void add_remote_options(CLI::App* cmd, EvalCmdOptions* o) {
  RemoteCmdOptions& r = o->remote;
  const char* group = "Remote model (an OpenAI-compatible API; see docs/eval.md)";
  auto* endpoint = cmd->add_option("--endpoint", r.endpoint,
                                   "Evaluate the model behind this API base URL instead of -m "
                                   "(http://127.0.0.1:8080/v1, https://api.openai.com/v1)")
                       ->group(group);
  cmd->add_option("--remote-model", r.model, "The endpoint's model id (with --endpoint)")
      ->needs(endpoint)
      ->group(group);
  cmd->add_option("--remote-scoring", r.scoring,
                  "Classification through the endpoint: echo (prompt log-probs, exact), logprobs "
                  "(first-token top log-probs), generate (answer text matched to labels) or auto "
                  "(the best the endpoint supports)")
      ->check(CLI::IsMember({"auto", "echo", "logprobs", "generate"}))
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--api-key-env", r.api_key_env,
                  "Environment variable holding the API key (sent as a Bearer token; never "
                  "printed or recorded)")
      ->needs(endpoint)
      ->group(group);
  cmd->add_option("--concurrency", r.concurrency, "API calls in flight at once")
      ->check(in_range(1, kMaxConcurrency))
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--timeout", r.timeout, "Seconds per attempt of a call")
      ->check(real_in_range(0.1, kMaxTimeoutSeconds))
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--retries", r.retries,
                  "Retries of a failed call (connection errors, 408, 409, 429, 5xx), with "
                  "exponential backoff and jitter, after Retry-After when the server sends one")
      ->check(in_range(0, kMaxRetries))
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--cache", r.cache,
                  "Response cache (SQLite file): identical calls are answered from it, so a "
                  "rerun or a resumed run does not pay twice")
      ->needs(endpoint)
      ->group(group);
}

// The evaluator's options: the parsed ones plus the task overrides that were given.
eval::EvalOptions evaluator_options(const EvalCmdOptions& c) {
  if (c.calibrate && c.no_calibrate) {
    throw std::invalid_argument("--calibrate and --no-calibrate");
  }
  eval::EvalOptions o = c.eval;
  if (c.shots >= 0) o.shots = static_cast<size_t>(c.shots);
  if (c.seed >= 0) o.seed = static_cast<uint64_t>(c.seed);
  if (c.calibrate) o.calibration = true;
  if (c.no_calibrate) o.calibration = false;
  if (!c.normalize.empty()) {
    o.normalize =
        c.normalize == "mean" ? tasks::ScoreNormalization::Mean : tasks::ScoreNormalization::Sum;
  }
  if (c.max_tokens > 0) o.max_tokens = c.max_tokens;
  if (c.temperature >= 0) o.temperature = c.temperature;
  o.scorer.prefix_cache = !c.no_shared_prefix;
  o.model_name = c.model.model.substr(c.model.model.find_last_of('/') + 1);
  return o;
}

void print_result(const EvalCmdOptions& c, const eval::EvalResult& r) {
  if (c.json_out) {
    std::cout << r.summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  std::cout << eval::format_report(r);
  if (!c.out_dir.empty()) std::cout << "\nwrote " << c.out_dir << "/examples.jsonl, summary.json\n";
}

// The record's settings: the summary without its metrics, and the prompt as text.
nlohmann::json record_settings(const eval::EvalResult& r, const tasks::TaskSpec& task,
                               const eval::EvalOptions& o) {
  nlohmann::json s = r.summary;
  s.erase("metrics");
  s["limit"] = o.limit;
  s["prompt"] = prompt_text(task, o.template_name, o.discrete_prompt);
  return s;
}

// Tokens of each example's field values: what any prompt built from it holds at least.
std::vector<int64_t> field_tokens(const std::vector<tasks::Example>& examples,
                                  const Tokenizer& tok) {
  std::vector<int64_t> out;
  for (const tasks::Example& ex : examples) {
    size_t n = 0;
    for (const auto& [field, value] : ex.fields) n += tok.encode(value, false, false).size();
    for (const auto& [field, values] : ex.lists) {
      for (const std::string& v : values) n += tok.encode(v, false, false).size();
    }
    out.push_back(static_cast<int64_t>(n));
  }
  return out;
}

// Refuses, before the weights load, a --batch-size whose batch cannot fit in memory. The rows
// are only known to hold their fields' tokens (templates and demos add more), so this is a
// lower bound: a refusal is certain, a pass is not a promise (the scorer bounds the rest).
void check_eval_memory(const EvalCmdOptions& c, const eval::EvalOptions& o,
                       const tasks::TaskSpec& task, const tasks::TaskData& data, const Loaded& l) {
  const std::vector<tasks::Example> examples =
      eval::eval_examples(task, data, o.split, o.limit, o.seed.value_or(0));
  const BatchShape batch =
      longest_batch(field_tokens(examples, *l.tokenizer), o.scorer.batch_size, /*prompt=*/0);
  const ModelConfig model = ModelConfig::from_gguf(*l.file);
  check_batch_memory("--batch-size " + std::to_string(o.scorer.batch_size), model, batch,
                     /*training=*/false);
  if (c.max_tokens > 0) check_new_tokens(c.max_tokens, model);
}

client::ClientOptions client_options(const RemoteCmdOptions& r, uint64_t seed) {
  client::ClientOptions o;
  o.endpoint = r.endpoint;
  o.api_key_env = r.api_key_env;
  o.timeout_seconds = r.timeout;
  o.concurrency = r.concurrency;
  o.retry.max_retries = r.retries;
  o.cache_path = r.cache;
  o.seed = seed;
  return o;
}

// The file outputs, the printed result and the run's record, local or remote.
void report(const EvalCmdOptions& c, const eval::EvalResult& r, const tasks::TaskSpec& task,
            const eval::EvalOptions& o, runs::Recorder* rec) {
  std::vector<runs::Artifact> files;
  if (!c.out_dir.empty()) files = write_outputs(c.out_dir, r, rec);
  print_result(c, r);
  if (rec) {
    rec->finish(r.summary["metrics"], r.records, files, record_settings(r, task, o));
    say_recorded(*rec);
  }
}

void run_remote(const EvalCmdOptions& c) {
  if (c.model_flag->count() > 0) {
    throw std::invalid_argument("give -m (a local model) or --endpoint (a remote one), not both");
  }
  if (c.remote.model.empty()) throw std::invalid_argument("--endpoint needs --remote-model NAME");
  if (!c.adapter.empty()) {
    throw std::invalid_argument(
        "--adapter with --endpoint: serve the adapter (ptune serve --adapter NAME=DIR) and pass "
        "--remote-model NAME");
  }
  eval::EvalOptions o = evaluator_options(c);
  o.model_name = c.remote.model;
  eval::RemoteEvalOptions ro;
  ro.model = c.remote.model;
  ro.scoring = eval::parse_remote_scoring(c.remote.scoring);
  const eval::Progress::Mode mode = progress_mode(c.progress);
  tasks::TaskSpec task = tasks::load_task(c.task_path);
  if (c.skip_bad) task.data.skip_bad = true;
  const tasks::TaskData data = tasks::load_task_data(task);
  client::OpenAiClient api(client_options(c.remote, o.seed.value_or(0)));
  const auto rec = start_recording(
      c.record, {"eval", {}, "", c.task_path, task.name, {{"split", o.split}}, c.remote.model});
  recorded(rec.get(), [&] {
    eval::Progress progress(stderr, mode);
    const eval::EvalResult r = eval::run_remote_eval(task, data, api, o, ro, &progress);
    report(c, r, task, o, rec.get());
  });
}

void run(const EvalCmdOptions& c) {
  if (!c.remote.endpoint.empty()) return run_remote(c);
  eval::EvalOptions o = evaluator_options(c);
  const eval::Progress::Mode mode = progress_mode(c.progress);
  // Load the task and data first: a bad task file fails before the model loads.
  tasks::TaskSpec task = tasks::load_task(c.task_path);
  if (c.skip_bad) task.data.skip_bad = true;
  const tasks::TaskData data = tasks::load_task_data(task);
  const auto rec = start_recording(
      c.record, {"eval", {}, c.model.model, c.task_path, task.name, {{"split", o.split}}, ""});
  recorded(rec.get(), [&] {
    Loaded l = load(c.model, /*with_model=*/false);
    check_eval_memory(c, o, task, data, l);
    load_model(l, c.model);
    const TunedPrompt tuned = load_tuned_prompt(c.adapter, *l.model);
    o.scorer.base = tuned.past();
    o.discrete_prompt = tuned.discrete();
    if (!c.adapter.empty()) o.adapter = c.adapter + " (" + tuned.artifact.describe() + ")";
    eval::Progress progress(stderr, mode);
    const eval::EvalResult r = eval::run_eval(task, data, *l.model, *l.tokenizer, o, &progress);
    report(c, r, task, o, rec.get());
  });
}

}  // namespace

void register_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "eval",
      "Evaluate a model on a task: rank classification over the verbalizers (classification, "
      "multiple choice) or decoding (generation, qa), metrics with bootstrap 95% CIs.\n"
      "Prints a table on stdout; a progress bar (or periodic lines) on stderr; with --out writes "
      "DIR/examples.jsonl (one record per example: input, prediction, gold, per-label scores) and "
      "DIR/summary.json. With --endpoint URL --remote-model NAME, the model behind an "
      "OpenAI-compatible API is evaluated instead (ptune serve, llama.cpp's server, a hosted "
      "API). See docs/eval.md.");
  auto opts = std::make_shared<EvalCmdOptions>();  // owned by the callback, see common.h
  add_model_options(cmd, &opts->model);
  opts->model_flag = cmd->get_option("--model");
  add_remote_options(cmd, opts.get());
  add_prompt_options(cmd, opts.get());
  add_scoring_options(cmd, opts.get());
  add_output_options(cmd, opts.get());
  add_record_options(cmd, &opts->record, /*measuring=*/true);
  cmd->callback([opts] { run(*opts); });
}

}  // namespace ptune::cli
