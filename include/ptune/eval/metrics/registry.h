// The metric registry: one entry per metric ptune reports. Task validation (which metrics a task
// may list, the defaults per task type), the evaluator (what to collect, how each headline value
// and its interval are computed) and tune (the dev metric and its direction) all read it, so no
// other file lists metric names.
//
// A metric reads one kind of per-example outcome (Need) from Outcomes, which the evaluator's
// strategies fill:
//   Label         gold and predicted label indexes (classification, multiple choice)
//   Text          the prediction string and its reference strings (generation, qa)
//   GoldLogprobs  the token log-probs of the gold continuation
//   Grade         the rubric judge's grade
// and is computed in exactly one of three ways:
//   per_example   a value per example; the metric is their mean, bootstrapped as a mean
//   over_sample   a function of a sample of example indexes (corpus BLEU / chrF, macro-F1,
//                 token-weighted NLL): run on 0..n-1 for the value and on each bootstrap resample
//                 for the interval
//   detail        report-only (per_class, confusion_matrix): a JSON table, no headline value
// `transform`, when set, maps the value and both bounds (perplexity = exp of the NLL interval).
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "ptune/eval/metrics/bootstrap.h"
#include "ptune/eval/metrics/task_type.h"

namespace ptune::eval {

enum class Direction { HigherIsBetter, LowerIsBetter, ReportOnly };
enum class Need { Label, Text, GoldLogprobs, Grade };

// Per-example outcomes of one evaluation, all indexed by example (0..n-1). Only the parts the
// listed metrics need are filled.
struct Outcomes {
  size_t n = 0;
  // Need::Label: label indexes into `labels` (class names, or choice letters A, B, ...).
  std::vector<size_t> gold, predicted;
  std::vector<std::string> labels;
  // Need::Text: the (trimmed) generated text and the acceptable references.
  std::vector<std::string> predictions;
  std::vector<std::vector<std::string>> references;
  // Need::GoldLogprobs: log p of each token of the gold continuation (natural log).
  std::vector<std::vector<double>> gold_logprobs;
  // Need::Grade: the rubric judge's grade per example.
  std::vector<double> grades;
};

struct Metric {
  std::string name;
  std::string description;            // one line, for --help and docs
  std::vector<TaskType> task_types;   // the task types it applies to
  std::vector<TaskType> default_for;  // task types that report it when a task lists no metrics
  Direction direction = Direction::HigherIsBetter;
  Need needs = Need::Label;
  double (*per_example)(const Outcomes&, size_t example) = nullptr;
  double (*over_sample)(const Outcomes&, const std::vector<size_t>& sample) = nullptr;
  double (*transform)(double) = nullptr;
  nlohmann::json (*detail)(const Outcomes&) = nullptr;

  bool higher_is_better() const { return direction == Direction::HigherIsBetter; }
  bool lower_is_better() const { return direction == Direction::LowerIsBetter; }
  bool report_only() const { return direction == Direction::ReportOnly; }
  bool applies_to(TaskType type) const;
};

// Every metric, in the order tasks list them by default and messages name them.
const std::vector<Metric>& metric_registry();
// The metric called `name`, or null.
const Metric* find_metric(const std::string& name);
// The names, in registry order.
std::vector<std::string> metric_names();
// What a task of `type` reports when it lists no metrics, in registry order.
std::vector<std::string> default_metrics(TaskType type);

// The headline value of `metric` on `outcomes` with its percentile-bootstrap interval. Throws
// std::invalid_argument for a report-only metric and std::logic_error when `outcomes` lacks what
// the metric needs.
ConfidenceInterval compute_metric(const Metric& metric, const Outcomes& outcomes,
                                  const BootstrapOptions& bootstrap);
// The JSON table of a report-only metric; throws std::invalid_argument for the others.
nlohmann::json metric_detail(const Metric& metric, const Outcomes& outcomes);

}  // namespace ptune::eval
