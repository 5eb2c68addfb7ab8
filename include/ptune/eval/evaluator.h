// `ptune eval` as a library call: a task + its data + a model -> per-example records, metrics with
// bootstrap 95% confidence intervals, a summary JSON and a printable table.
//
// Flow (see also ptune/tasks/task.h):
//   examples of the split (train | dev | test | all), first `limit`
//   -> prompts (PromptBuilder::render with the few-shot demos; chat format wraps the prompt as the
//      user turn with the model's chat template) -> token ids
//   classification / multiple choice: every candidate continuation scored by ContinuationScorer
//      (shared-prefix KV + one state per example); label score = max over its words of the sum or
//      mean log-prob; optional contextual calibration (calibration.h); prediction = argmax
//   generation / qa: generate() per example from the shared prefix's KV, greedy or sampled
//      (seeded per example), stop strings from the task
//   nll / perplexity: the gold continuation's log-probs (classification: the gold label's first
//      word; generation / qa: the first reference)
//   rubric: the task's judge prompt, rendered with {input} (the zero-shot prompt), {prediction},
//      {reference}, rank-classified over the scores min..max by the same model
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ptune/eval/progress.h"
#include "ptune/eval/scorer.h"
#include "ptune/model/llama.h"
#include "ptune/tasks/metrics.h"
#include "ptune/tasks/task.h"
#include "ptune/tokenizer/tokenizer.h"

namespace ptune::eval {

struct EvalOptions {
  std::string template_name = "default";  // "default" or a key of the task's "templates"
  std::optional<size_t> shots;            // overrides few_shot.k
  std::string split = "test";             // train | dev | test | all (the three in order)
  size_t limit = 0;                       // 0 = all; else the first N (file order)
  // Overrides few_shot.seed and seeds sampling and the bootstrap (default: task seed, 0, 0).
  std::optional<uint64_t> seed;
  ScorerOptions scorer;                                // batch size, prefix cache
  std::optional<bool> calibration;                     // overrides scoring.calibration
  std::optional<tasks::ScoreNormalization> normalize;  // overrides scoring.normalize
  std::optional<int> max_tokens;                       // overrides generation.max_tokens
  std::optional<double> temperature;                   // overrides generation.temperature
  bool show_prompt = false;                            // put each rendered prompt in the records
  size_t bootstrap_resamples = 1000;
  std::string model_name;  // for the summary only
};

struct MetricResult {
  std::string name;
  tasks::ConfidenceInterval ci;  // value + 95% bootstrap interval
};

struct EvalResult {
  std::vector<MetricResult> headline;   // in the task's metric order
  std::vector<nlohmann::json> records;  // one per example (examples.jsonl)
  nlohmann::json summary;               // summary.json
  double seconds = 0;                   // wall time of prompting + model work
};

// Throws std::invalid_argument for bad options (unknown split / template, --shots without a
// {demos} slot, soft slots in a discrete prompt) and the task layer's errors for bad data.
EvalResult run_eval(const tasks::TaskSpec& task, const tasks::TaskData& data,
                    const LlamaModel& model, const Tokenizer& tokenizer, const EvalOptions& options,
                    Progress* progress = nullptr);

// The examples of a split name ("all" = train + dev + test), first `limit` (0 = all).
std::vector<tasks::Example> eval_examples(const tasks::TaskData& data, const std::string& split,
                                          size_t limit);

// The readable report printed on stdout.
std::string format_report(const EvalResult& result);

}  // namespace ptune::eval
