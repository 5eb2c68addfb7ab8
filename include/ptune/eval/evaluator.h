// `ptune eval` as a library call: a task + its data + a model -> per-example records, metrics with
// bootstrap 95% confidence intervals, a summary JSON and a printable table.
//
// Flow (see also ptune/tasks/task.h):
//   examples of the split (train | dev | test | all); with `limit`, a seeded sample of that many
//      (stratified by label for classification), kept in file order
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
//   metrics: each name the task lists, computed from the per-example outcomes by the metric
//      registry (ptune/eval/metrics/registry.h) with its percentile-bootstrap interval
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ptune/eval/metrics/bootstrap.h"
#include "ptune/eval/progress.h"
#include "ptune/eval/scorer.h"
#include "ptune/model/model.h"
#include "ptune/tasks/discrete_prompt.h"
#include "ptune/tasks/task.h"
#include "ptune/tokenizer/tokenizer.h"

namespace ptune::eval {

struct EvalOptions {
  std::string template_name = "default";  // "default" or a key of the task's "templates"
  std::optional<size_t> shots;            // overrides few_shot.k
  std::string split = "test";             // train | dev | test | all (the three in order)
  size_t limit = 0;  // 0 = all; else a seeded sample of N (see eval_examples), in file order
  // Overrides few_shot.seed and seeds sampling and the bootstrap (default: task seed, 0, 0).
  std::optional<uint64_t> seed;
  ScorerOptions scorer;  // batch size, prefix cache, a continuous prompt's state (scorer.base)
  // A discrete prompt applied to the template (tasks/discrete_prompt.h). Not owned; null = none.
  const tasks::DiscretePrompt* discrete_prompt = nullptr;
  std::optional<bool> calibration;                     // overrides scoring.calibration
  std::optional<tasks::ScoreNormalization> normalize;  // overrides scoring.normalize
  std::optional<int> max_tokens;                       // overrides generation.max_tokens
  std::optional<double> temperature;                   // overrides generation.temperature
  bool show_prompt = false;                            // put each rendered prompt in the records
  size_t bootstrap_resamples = 1000;
  std::string model_name;  // for the summary only
  std::string adapter;     // for the summary only: the tuned prompt given, described
};

struct MetricResult {
  std::string name;
  ConfidenceInterval ci;  // value + 95% bootstrap interval
};

struct EvalResult {
  std::vector<MetricResult> headline;   // in the task's metric order
  std::vector<nlohmann::json> records;  // one per example (examples.jsonl)
  nlohmann::json summary;               // summary.json
  double seconds = 0;                   // wall time of prompting + model work
};

// Throws std::invalid_argument for bad options (unknown split / template, --shots without a
// {demos} slot, soft slots in a discrete prompt) and the task layer's errors for bad data.
EvalResult run_eval(const tasks::TaskSpec& task, const tasks::TaskData& data, const Model& model,
                    const Tokenizer& tokenizer, const EvalOptions& options,
                    Progress* progress = nullptr);

// One text classified under a task: every label with its probability (calibrated when the
// task asks), best first.
struct LabelDistribution {
  std::vector<std::pair<std::string, double>> labels;
};

// Rank-classifies `inputs` (examples holding the query fields the task's template reads; no
// label needed) exactly as run_eval scores a classification task's examples: the same
// template, few-shot demos (drawn from `data` as for an evaluated example), verbalizer,
// normalization, calibration and adapter (options.scorer.base, options.discrete_prompt).
// `ptune serve`'s /v1/classify. Throws std::invalid_argument for a task that is not
// classification, an input missing a field, or one that does not fit the context.
std::vector<LabelDistribution> classify(const tasks::TaskSpec& task, const tasks::TaskData& data,
                                        const Model& model, const Tokenizer& tokenizer,
                                        std::vector<tasks::Example> inputs,
                                        const EvalOptions& options);

// The examples of a split name ("all" = train + dev + test). With a `limit` (0 = all) below
// their number, a sample of `limit` drawn with `seed`, in file order: task files are often
// sorted by label, so the first N rows would be a few classes. Classification tasks stratify the
// sample by label (each label keeps its share, and every label at least one row when the limit
// allows); other tasks sample uniformly. run_eval uses this with its seed.
std::vector<tasks::Example> eval_examples(const tasks::TaskSpec& task, const tasks::TaskData& data,
                                          const std::string& split, size_t limit, uint64_t seed);

// What run_eval shows the model for one example, without running the model.
struct ExamplePrompt {
  std::string text;                       // the prompt (demos as run_eval draws them, chat applied)
  std::vector<std::string> content_free;  // ranked tasks under calibration
};
// Every example's prompts under `options` (overrides and a discrete prompt applied): equal
// prompts, continuations and settings give equal scores, so `ptune search` keys its score cache
// on them. Throws as run_eval does for bad options.
std::vector<ExamplePrompt> example_prompts(const tasks::TaskSpec& task, const tasks::TaskData& data,
                                           const std::vector<tasks::Example>& examples,
                                           const Tokenizer& tokenizer, const EvalOptions& options);

// log p(continuation | prompt) (sum over its tokens) of every continuation after every example's
// prompt, the prompt built as run_eval builds it (demos, chat template, adapter): what `ptune
// search`'s label search scores candidate label words with. out[i][j]: example i, continuation
// j. Throws std::invalid_argument for an empty continuation, and as run_eval does.
std::vector<std::vector<double>> continuation_log_probs(
    const tasks::TaskSpec& task, const tasks::TaskData& data,
    const std::vector<tasks::Example>& examples, const Model& model, const Tokenizer& tokenizer,
    const EvalOptions& options, const std::vector<std::string>& continuations);

// The readable report printed on stdout.
std::string format_report(const EvalResult& result);

}  // namespace ptune::eval
