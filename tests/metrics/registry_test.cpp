// The metric registry: every entry is complete and consistent, the defaults and directions are
// the ones tasks and tune rely on, and compute_metric gives the values (and intervals) of the
// metric functions it wraps.
#include "ptune/eval/metrics/registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "ptune/eval/metrics/classification.h"
#include "ptune/eval/metrics/text.h"

namespace ptune::eval {
namespace {

const Metric& metric(const std::string& name) {
  const Metric* m = find_metric(name);
  if (m == nullptr) throw std::runtime_error("no metric " + name);
  return *m;
}

TEST(MetricRegistry, EveryEntryIsComplete) {
  std::set<std::string> names;
  for (const Metric& m : metric_registry()) {
    EXPECT_TRUE(names.insert(m.name).second) << "duplicate " << m.name;
    EXPECT_FALSE(m.description.empty()) << m.name;
    EXPECT_FALSE(m.task_types.empty()) << m.name << " applies to no task type";
    // Exactly one way to compute it, and tables are exactly the report-only metrics.
    const int ways =
        (m.per_example != nullptr) + (m.over_sample != nullptr) + (m.detail != nullptr);
    EXPECT_EQ(ways, 1) << m.name;
    EXPECT_EQ(m.report_only(), m.detail != nullptr) << m.name;
    EXPECT_TRUE(m.transform == nullptr || m.over_sample != nullptr) << m.name;
    for (TaskType t : m.default_for) EXPECT_TRUE(m.applies_to(t)) << m.name;
    EXPECT_EQ(find_metric(m.name), &m);
  }
  EXPECT_EQ(metric_names().size(), metric_registry().size());
  EXPECT_EQ(find_metric("acuracy"), nullptr);
}

TEST(MetricRegistry, DirectionsAndApplicability) {
  EXPECT_TRUE(metric("accuracy").higher_is_better());
  EXPECT_TRUE(metric("bleu").higher_is_better());
  for (const char* m : {"nll", "perplexity"}) {
    EXPECT_TRUE(metric(m).lower_is_better()) << m;
    EXPECT_FALSE(metric(m).higher_is_better()) << m;
    for (TaskType t : kTaskTypes) EXPECT_TRUE(metric(m).applies_to(t)) << m;
  }
  for (const char* m : {"per_class", "confusion_matrix"}) {
    EXPECT_TRUE(metric(m).report_only()) << m;
    EXPECT_FALSE(metric(m).higher_is_better()) << m;
  }
  EXPECT_TRUE(metric("accuracy").applies_to(TaskType::MultipleChoice));
  EXPECT_FALSE(metric("accuracy").applies_to(TaskType::Generation));
  EXPECT_FALSE(metric("bleu").applies_to(TaskType::Classification));
  EXPECT_TRUE(metric("exact_match").applies_to(TaskType::Generation));
  EXPECT_EQ(metric("rubric").needs, Need::Grade);
}

TEST(MetricRegistry, DefaultsPerTaskType) {
  using V = std::vector<std::string>;
  EXPECT_EQ(default_metrics(TaskType::Classification), (V{"accuracy", "macro_f1"}));
  EXPECT_EQ(default_metrics(TaskType::MultipleChoice), (V{"accuracy", "macro_f1"}));
  EXPECT_EQ(default_metrics(TaskType::QA), (V{"exact_match", "token_f1"}));
  EXPECT_EQ(default_metrics(TaskType::Generation), (V{"bleu", "chrf", "rouge_l"}));
}

Outcomes labelled() {
  Outcomes o;
  o.gold = {0, 0, 1, 1, 2, 2};
  o.predicted = {0, 1, 1, 1, 2, 0};
  o.labels = {"a", "b", "c"};
  o.n = o.gold.size();
  return o;
}

TEST(MetricRegistry, LabelMetricsMatchTheFunctions) {
  const Outcomes o = labelled();
  BootstrapOptions boot;
  boot.resamples = 200;
  const auto acc = compute_metric(metric("accuracy"), o, boot);
  EXPECT_DOUBLE_EQ(acc.value, accuracy(o.gold, o.predicted));
  // The same function serves the value and the bootstrap: the interval is bootstrap_mean's.
  const auto mean = bootstrap_mean({1, 0, 1, 1, 1, 0}, boot);
  EXPECT_DOUBLE_EQ(acc.low, mean.low);
  EXPECT_DOUBLE_EQ(acc.high, mean.high);
  EXPECT_DOUBLE_EQ(compute_metric(metric("macro_f1"), o, boot).value,
                   macro_f1(o.gold, o.predicted, 3));
  const auto cm = metric_detail(metric("confusion_matrix"), o);
  EXPECT_EQ(cm["labels"], nlohmann::json({"a", "b", "c"}));
  EXPECT_EQ(cm["counts"][0][1].get<size_t>(), 1u);
  EXPECT_EQ(metric_detail(metric("per_class"), o).size(), 3u);
  EXPECT_THROW(compute_metric(metric("per_class"), o, boot), std::invalid_argument);
  EXPECT_THROW(metric_detail(metric("accuracy"), o), std::invalid_argument);
  Outcomes empty;
  empty.n = 3;  // nothing filled: a strategy bug, not a zero
  EXPECT_THROW(compute_metric(metric("accuracy"), empty, boot), std::logic_error);
}

TEST(MetricRegistry, TextMetricsMatchTheFunctions) {
  Outcomes o;
  o.predictions = {"the cat sat", "a dog", "blue"};
  o.references = {{"the cat sat"}, {"the dog", "dogs"}, {"red"}};
  o.n = 3;
  const BootstrapOptions boot;
  EXPECT_NEAR(compute_metric(metric("exact_match"), o, boot).value, 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(compute_metric(metric("bleu"), o, boot).value,
                   corpus_bleu(o.predictions, o.references).score);
  EXPECT_DOUBLE_EQ(compute_metric(metric("chrf"), o, boot).value,
                   corpus_chrf(o.predictions, o.references));
  // ROUGE-L per example: 1, 0.5 ("a dog" / "the dog": LCS 1 of 2 tokens each), 0.
  EXPECT_NEAR(compute_metric(metric("rouge_l"), o, boot).value, 0.5, 1e-12);
}

TEST(MetricRegistry, NllIsTokenWeightedAndPerplexityIsItsExp) {
  Outcomes o;
  o.gold_logprobs = {{-1.0, -2.0}, {-3.0}, {-0.5, -0.5, -0.5, -0.5}};
  o.n = 3;
  BootstrapOptions boot;
  boot.resamples = 300;
  const auto nll = compute_metric(metric("nll"), o, boot);
  // (1 + 2 + 3 + 2) / 7 tokens, not the mean of the per-example means (1.5, 3, 0.5).
  EXPECT_DOUBLE_EQ(nll.value, 8.0 / 7.0);
  EXPECT_LT(nll.low, nll.high);
  const auto ppl = compute_metric(metric("perplexity"), o, boot);
  EXPECT_DOUBLE_EQ(ppl.value, std::exp(nll.value));
  EXPECT_DOUBLE_EQ(ppl.low, std::exp(nll.low));
  EXPECT_DOUBLE_EQ(ppl.high, std::exp(nll.high));
}

}  // namespace
}  // namespace ptune::eval
