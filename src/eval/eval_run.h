// The inside of run_eval (include/ptune/eval/evaluator.h), shared by its files:
//   evaluator.cpp            the entry: options, examples, prompts, one strategy, the metric loop
//   rank_strategy.cpp        classification and multiple choice (rank scoring of candidates)
//   generation_strategy.cpp  generation and qa (decoding, reference NLL, the rubric judge)
//   report.cpp               summary.json and the printed table
// A strategy turns the run's prompts into per-example records and Outcomes; the metrics are
// then computed from Outcomes by the metric registry, the same way for every task type.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "ptune/eval/evaluator.h"
#include "ptune/eval/metrics/registry.h"
#include "ptune/eval/prompt_formatter.h"
#include "ptune/tasks/prompt.h"

namespace ptune::eval::detail {

// One run_eval call: its inputs, the rendered prompts and what the strategies write.
class EvalRun {
 public:
  // Renders every example's prompt (with its few-shot demos) and tokenizes it.
  EvalRun(const tasks::TaskSpec& task, const tasks::TaskData& data,
          std::vector<tasks::Example> examples, const Model& model, const Tokenizer& tok,
          const EvalOptions& opt, Progress* progress);

  const tasks::TaskSpec& task;
  const tasks::TaskData& data;
  const std::vector<tasks::Example> examples;
  const Model& model;
  const Tokenizer& tok;
  const EvalOptions& opt;
  Progress* progress;   // may be null
  const uint64_t seed;  // --seed, else 0: sampling and the bootstrap
  const tasks::PromptBuilder prompts;
  const PromptFormatter format;

  std::vector<std::vector<const tasks::Example*>> demos;  // per example
  std::vector<std::string> texts;                         // the prompt text the model sees
  std::vector<std::vector<int32_t>> ids;                  // its token ids

  std::vector<nlohmann::json> records;                // one per example (examples.jsonl)
  nlohmann::json metrics = nlohmann::json::object();  // summary "metrics": values, tables, extras
  ScorerStats stats;                                  // summed over every scoring pass

  size_t size() const { return examples.size(); }
  // Throws std::invalid_argument naming the example when its prompt (after the adapter's
  // tokens) leaves no room for an answer in the model's context.
  void check_fits_context(const tasks::Example& ex, size_t prompt_tokens) const;
  // A continuation's ids: no BOS, no special-token parsing (as lm-evaluation-harness).
  std::vector<int32_t> encode_continuation(const std::string& text) const;
  // Scores `requests` as a progress stage; through the adapter unless `with_adapter` is false
  // (the judge grades with the plain model). Adds to `stats`.
  std::vector<std::vector<ContinuationScore>> score(const std::vector<ScoreRequest>& requests,
                                                    const std::string& stage,
                                                    bool with_adapter = true);
  // Whether some metric the task lists reads this kind of outcome.
  bool wants(Need need) const;
};

// The task after the options' overrides (shots, seed, calibration, normalization, generation
// settings, a discrete prompt), re-validated: a bad combination is a clear error.
tasks::TaskSpec apply_overrides(tasks::TaskSpec task, const EvalOptions& options);

// Each example's few-shot demos (none when few_shot.k is 0), as run_eval draws them.
std::vector<std::vector<const tasks::Example*>> select_demos(
    const tasks::TaskSpec& task, const tasks::TaskData& data, const tasks::PromptBuilder& prompts,
    const std::vector<tasks::Example>& examples);

// An example's record before it is scored: index, source (file:line), input fields, and the
// prompt text when `prompt` is given (--show-prompt).
nlohmann::json example_record(const tasks::Example& ex, size_t index, const std::string* prompt);

// Every metric the task lists, in its order, from `out`: headline values with their intervals;
// values and report-only tables go into `metrics` (the summary's "metrics").
std::vector<MetricResult> compute_metrics(const tasks::TaskSpec& task, const Outcomes& out,
                                          const BootstrapOptions& boot, nlohmann::json& metrics);

// One strategy per task type: fills the records and the Outcomes its metrics read.
using Strategy = void (*)(EvalRun& run, Outcomes& out);
void classification_strategy(EvalRun& run, Outcomes& out);
void multiple_choice_strategy(EvalRun& run, Outcomes& out);
// Generation and qa differ only in their task data (references come from the gold field either
// way), so they share one strategy.
void text_strategy(EvalRun& run, Outcomes& out);

// Each record gets every per-example text score the registry defines (exact match, token F1,
// ROUGE-L), whichever the task lists, so examples.jsonl can be filtered on any of them.
void record_text_scores(std::vector<nlohmann::json>& records, const Outcomes& out);
// `s` without leading and trailing whitespace: what a generated answer is scored as.
std::string trimmed(const std::string& s);

// Per label, the best of its candidates' scores (the sum, or with `mean` the per-token mean, of
// each candidate's log-probs; -inf for a label with no candidate): rank classification's label
// score, local and remote. scores[j] scores candidates[j].
std::vector<double> best_label_scores(const std::vector<tasks::Candidate>& candidates,
                                      size_t labels, const std::vector<ContinuationScore>& scores,
                                      bool mean);

// Each record's gold_nll and gold_tokens, from out.gold_logprobs (nll / perplexity).
void record_gold_nll(std::vector<nlohmann::json>& records, const Outcomes& out);

// Classification without gold labels: per example, the label log-probabilities (calibrated
// when the task asks) in class_names order.
std::vector<std::vector<double>> label_log_probabilities(EvalRun& run);

// summary.json for a finished run.
nlohmann::json summary_json(const EvalRun& run, const BootstrapOptions& boot, double seconds);

// What every summary holds, local or remote: the task, options, data, metrics and timing.
struct SummaryInputs {
  const tasks::TaskSpec& task;
  const tasks::TaskData& data;
  const EvalOptions& opt;
  size_t examples;
  uint64_t seed;
  const nlohmann::json& metrics;
};
nlohmann::json base_summary(const SummaryInputs& in, const BootstrapOptions& boot, double seconds);

}  // namespace ptune::eval::detail
