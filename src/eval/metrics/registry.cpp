// The metric registry; contract in include/ptune/eval/metrics/registry.h. Each entry says how its
// metric is computed from Outcomes, so the evaluator's value and its bootstrap interval come from
// one function.
#include "ptune/eval/metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "ptune/eval/metrics/classification.h"
#include "ptune/eval/metrics/nll.h"
#include "ptune/eval/metrics/text.h"

namespace ptune::eval {
namespace {

using nlohmann::json;

constexpr TaskType kClassification = TaskType::Classification;
constexpr TaskType kMultipleChoice = TaskType::MultipleChoice;
constexpr TaskType kGeneration = TaskType::Generation;
constexpr TaskType kQA = TaskType::QA;

// ---- how each metric reads the outcomes --------------------------------------------------------

double correct(const Outcomes& o, size_t i) {
  return o.gold[i] == o.predicted[i] ? 1.0 : 0.0;
}

double sample_macro_f1(const Outcomes& o, const std::vector<size_t>& idx) {
  std::vector<size_t> g, p;
  for (size_t k : idx) g.push_back(o.gold[k]), p.push_back(o.predicted[k]);
  return macro_f1(g, p, o.labels.size());
}

json per_class_table(const Outcomes& o) {
  json table = json::array();
  for (const auto& c : classification_report(o.gold, o.predicted, o.labels).per_class) {
    table.push_back({{"label", c.label},
                     {"precision", c.precision},
                     {"recall", c.recall},
                     {"f1", c.f1},
                     {"support", c.support}});
  }
  return table;
}

json confusion_table(const Outcomes& o) {
  return {{"labels", o.labels},
          {"counts", classification_report(o.gold, o.predicted, o.labels).confusion}};
}

double example_exact_match(const Outcomes& o, size_t i) {
  return exact_match(o.predictions[i], o.references[i]);
}

double example_token_f1(const Outcomes& o, size_t i) {
  return token_f1(o.predictions[i], o.references[i]);
}

double example_rouge_l(const Outcomes& o, size_t i) {
  return rouge_l(o.predictions[i], o.references[i]);
}

// A corpus metric on the sampled examples (a resample repeats some, as the bootstrap intends).
template <typename Corpus>
double on_sample(const Outcomes& o, const std::vector<size_t>& idx, Corpus corpus) {
  std::vector<std::string> p;
  std::vector<std::vector<std::string>> r;
  for (size_t k : idx) p.push_back(o.predictions[k]), r.push_back(o.references[k]);
  return corpus(p, r);
}

double sample_bleu(const Outcomes& o, const std::vector<size_t>& idx) {
  return on_sample(o, idx, [](const auto& p, const auto& r) { return corpus_bleu(p, r).score; });
}

double sample_chrf(const Outcomes& o, const std::vector<size_t>& idx) {
  return on_sample(o, idx, [](const auto& p, const auto& r) { return corpus_chrf(p, r); });
}

// Token-weighted: the sampled examples' NLL summed, over their tokens summed (NaN for none).
double sample_mean_nll(const Outcomes& o, const std::vector<size_t>& idx) {
  NllAccumulator acc;
  for (size_t k : idx) acc.add(o.gold_logprobs[k]);
  return acc.mean_nll();
}

double exp_of(double x) {
  return std::exp(x);
}

double grade(const Outcomes& o, size_t i) {
  return o.grades[i];
}

// ---- the registry ------------------------------------------------------------------------------

using Types = std::vector<TaskType>;

Metric base(const char* name, const char* description, Types types, Types defaults,
            Direction direction, Need needs) {
  Metric m;
  m.name = name;
  m.description = description;
  m.task_types = std::move(types);
  m.default_for = std::move(defaults);
  m.direction = direction;
  m.needs = needs;
  return m;
}

// The mean of a per-example value.
Metric mean_of(Metric m, double (*per_example)(const Outcomes&, size_t)) {
  m.per_example = per_example;
  return m;
}

// A function of the sampled examples, optionally mapped (value and bounds) by `transform`.
Metric over(Metric m, double (*over_sample)(const Outcomes&, const std::vector<size_t>&),
            double (*transform)(double) = nullptr) {
  m.over_sample = over_sample;
  m.transform = transform;
  return m;
}

Metric table(Metric m, json (*detail)(const Outcomes&)) {
  m.detail = detail;
  return m;
}

std::vector<Metric> build_registry() {
  const Types labelled = {kClassification, kMultipleChoice};
  const Types text = {kGeneration, kQA};
  const Types all(std::begin(kTaskTypes), std::end(kTaskTypes));
  const auto up = Direction::HigherIsBetter, down = Direction::LowerIsBetter,
             report = Direction::ReportOnly;
  return {
      mean_of(base("accuracy", "share of examples whose predicted label is the gold one", labelled,
                   labelled, up, Need::Label),
              correct),
      over(base("macro_f1", "unweighted mean over the labels of per-label F1 (sklearn macro)",
                labelled, labelled, up, Need::Label),
           sample_macro_f1),
      table(base("per_class", "precision, recall, F1 and support of each label (a table)", labelled,
                 {}, report, Need::Label),
            per_class_table),
      table(base("confusion_matrix", "counts of gold label x predicted label (a table)", labelled,
                 {}, report, Need::Label),
            confusion_table),
      mean_of(base("exact_match", "share of answers equal to a reference after SQuAD normalisation",
                   text, {kQA}, up, Need::Text),
              example_exact_match),
      mean_of(base("token_f1", "bag-of-words F1 against the best reference (SQuAD), mean", text,
                   {kQA}, up, Need::Text),
              example_token_f1),
      over(base("bleu", "corpus BLEU, 0-100 (sacrebleu: 13a tokens, exp smoothing)", text,
                {kGeneration}, up, Need::Text),
           sample_bleu),
      over(base("chrf", "corpus chrF2, 0-100 (sacrebleu defaults)", text, {kGeneration}, up,
                Need::Text),
           sample_chrf),
      mean_of(base("rouge_l", "ROUGE-L F-measure against the best reference (rouge-score), mean",
                   text, {kGeneration}, up, Need::Text),
              example_rouge_l),
      over(base("nll", "token-weighted mean negative log-likelihood of the gold continuation", all,
                {}, down, Need::GoldLogprobs),
           sample_mean_nll),
      over(base("perplexity", "exp of nll (its interval is exp of nll's)", all, {}, down,
                Need::GoldLogprobs),
           sample_mean_nll, exp_of),
      mean_of(base("rubric", "mean grade the task's judge prompt gives each answer", text, {}, up,
                   Need::Grade),
              grade),
  };
}

// Throws when the outcomes lack what `m` reads: a strategy forgot to fill it.
void check_outcomes(const Metric& m, const Outcomes& o) {
  bool ok = true;
  switch (m.needs) {
    case Need::Label:
      ok = o.gold.size() == o.n && o.predicted.size() == o.n && !o.labels.empty();
      break;
    case Need::Text:
      ok = o.predictions.size() == o.n && o.references.size() == o.n;
      break;
    case Need::GoldLogprobs:
      ok = o.gold_logprobs.size() == o.n;
      break;
    case Need::Grade:
      ok = o.grades.size() == o.n;
      break;
  }
  if (!ok) throw std::logic_error("metric '" + m.name + "': outcomes lack what it needs");
}

}  // namespace

bool Metric::applies_to(TaskType type) const {
  return std::find(task_types.begin(), task_types.end(), type) != task_types.end();
}

const std::vector<Metric>& metric_registry() {
  static const std::vector<Metric> registry = build_registry();
  return registry;
}

const Metric* find_metric(const std::string& name) {
  for (const Metric& m : metric_registry()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::vector<std::string> metric_names() {
  std::vector<std::string> names;
  for (const Metric& m : metric_registry()) names.push_back(m.name);
  return names;
}

std::vector<std::string> default_metrics(TaskType type) {
  std::vector<std::string> names;
  for (const Metric& m : metric_registry()) {
    if (std::find(m.default_for.begin(), m.default_for.end(), type) != m.default_for.end()) {
      names.push_back(m.name);
    }
  }
  return names;
}

ConfidenceInterval compute_metric(const Metric& m, const Outcomes& o, const BootstrapOptions& b) {
  if (m.report_only()) {
    throw std::invalid_argument("metric '" + m.name + "' is a table, not a value");
  }
  check_outcomes(m, o);
  ConfidenceInterval ci;
  if (m.per_example) {
    std::vector<double> values(o.n);
    for (size_t i = 0; i < o.n; ++i) values[i] = m.per_example(o, i);
    ci = bootstrap_mean(values, b);
  } else {
    ci = bootstrap_ci(
        o.n, [&](const std::vector<size_t>& idx) { return m.over_sample(o, idx); }, b);
  }
  if (m.transform) ci = {m.transform(ci.value), m.transform(ci.low), m.transform(ci.high)};
  return ci;
}

nlohmann::json metric_detail(const Metric& m, const Outcomes& o) {
  if (!m.detail) throw std::invalid_argument("metric '" + m.name + "' has no table");
  check_outcomes(m, o);
  return m.detail(o);
}

}  // namespace ptune::eval
