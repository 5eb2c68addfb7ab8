// ptune eval as a library call; contract in include/ptune/eval/evaluator.h. This file is the
// entry: options, the examples, the per-example prompts, the strategy for the task type, and the
// one loop that computes every listed metric from the registry. The strategies live in
// rank_strategy.cpp and generation_strategy.cpp, the summary and the table in report.cpp.
#include "ptune/eval/evaluator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <stdexcept>

#include "eval_run.h"
#include "ptune/tasks/fewshot.h"
#include "ptune/tasks/splits.h"
#include "ptune/tasks/template.h"

namespace ptune::eval {

using nlohmann::json;
using tasks::Example;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Checks the template the options name and that --shots has a {demos} slot to fill.
void check_template_options(const tasks::TaskSpec& t, const EvalOptions& o) {
  if (!t.templates.count(o.template_name)) {
    std::string known;
    for (const auto& [name, src] : t.templates) known += (known.empty() ? "" : ", ") + name;
    throw std::invalid_argument("unknown template '" + o.template_name +
                                "' (task templates: " + known + ")");
  }
  if (t.few_shot.k == 0) return;
  const auto tmpl = tasks::Template::parse(t.templates.at(o.template_name), o.template_name);
  if (!tmpl.uses("demos")) {
    throw std::invalid_argument("--shots " + std::to_string(t.few_shot.k) + ": template '" +
                                o.template_name + "' has no {demos} placeholder");
  }
  if (t.few_shot.demo_template.empty()) {
    throw std::invalid_argument("--shots " + std::to_string(t.few_shot.k) +
                                ": the task has no few_shot.template to render demos with");
  }
}

detail::Strategy strategy_for(tasks::TaskType type) {
  switch (type) {
    case tasks::TaskType::Classification:
      return detail::classification_strategy;
    case tasks::TaskType::MultipleChoice:
      return detail::multiple_choice_strategy;
    case tasks::TaskType::Generation:
    case tasks::TaskType::QA:
      return detail::text_strategy;
  }
  throw std::logic_error("run_eval: no strategy for the task type");
}

// What "similar" demo selection compares: the fields the query template shows the model,
// without the gold field (a demo's label must not make it look like the query).
std::vector<std::string> similarity_fields(const tasks::PromptBuilder& prompts) {
  std::vector<std::string> fields = prompts.query_template().fields();
  fields.erase(std::remove(fields.begin(), fields.end(), prompts.label_field()), fields.end());
  return fields;
}

}  // namespace

namespace detail {

// The task after the CLI overrides, re-validated so a bad combination is a clear error.
tasks::TaskSpec apply_overrides(tasks::TaskSpec t, const EvalOptions& o) {
  if (o.shots) t.few_shot.k = *o.shots;
  if (o.seed) t.few_shot.seed = *o.seed;
  if (o.calibration) t.scoring.calibration = *o.calibration;
  if (o.normalize) t.scoring.normalize = *o.normalize;
  if (o.max_tokens) t.generation.max_tokens = *o.max_tokens;
  if (o.temperature) t.generation.temperature = *o.temperature;
  check_template_options(t, o);
  if (o.discrete_prompt)
    t = tasks::with_discrete_prompt(std::move(t), *o.discrete_prompt, o.template_name);
  return t;  // the rest was validated when the task loaded
}

std::vector<MetricResult> compute_metrics(const tasks::TaskSpec& task, const Outcomes& out,
                                          const BootstrapOptions& boot, json& metrics) {
  std::vector<MetricResult> headline;
  for (const std::string& name : task.metrics) {
    const Metric* m = find_metric(name);
    if (m == nullptr) throw std::invalid_argument("unknown metric '" + name + "'");
    if (m->report_only()) {
      metrics[name] = metric_detail(*m, out);
      continue;
    }
    const ConfidenceInterval ci = compute_metric(*m, out, boot);
    headline.push_back({name, ci});
    metrics[name] = {{"value", ci.value}, {"low", ci.low}, {"high", ci.high}};
  }
  return headline;
}

std::vector<std::vector<const Example*>> select_demos(const tasks::TaskSpec& task,
                                                      const tasks::TaskData& data,
                                                      const tasks::PromptBuilder& prompts,
                                                      const std::vector<Example>& examples) {
  std::vector<std::vector<const Example*>> demos(examples.size());
  if (task.few_shot.k == 0) return demos;
  // One selector for the run: "similar" indexes the demo pool once, not per example.
  const tasks::DemoSelector selector(data.split(task.few_shot.split), task.few_shot,
                                     prompts.label_field(), similarity_fields(prompts));
  for (size_t i = 0; i < examples.size(); ++i) demos[i] = selector.select(examples[i], i);
  return demos;
}

EvalRun::EvalRun(const tasks::TaskSpec& task_in, const tasks::TaskData& data_in,
                 std::vector<Example> examples_in, const Model& model_in, const Tokenizer& tok_in,
                 const EvalOptions& opt_in, Progress* progress_in)
    : task(task_in),
      data(data_in),
      examples(std::move(examples_in)),
      model(model_in),
      tok(tok_in),
      opt(opt_in),
      progress(progress_in),
      seed(opt_in.seed.value_or(0)),
      prompts(task_in, opt_in.template_name),
      format(task_in, tok_in) {
  const size_t n = examples.size();
  demos = select_demos(task, data, prompts, examples);
  texts.resize(n);
  ids.resize(n);
  records.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const util::MarkedText prompt = format.marked(prompts.render(examples[i], demos[i]));
    texts[i] = prompt.text;
    ids[i] = tok.encode(prompt);
    check_fits_context(examples[i], ids[i].size());
    records[i] = example_record(examples[i], i, opt.show_prompt ? &texts[i] : nullptr);
  }
}

void record_gold_nll(std::vector<json>& records, const Outcomes& out) {
  for (size_t i = 0; i < records.size(); ++i) {
    double nll = 0;
    for (double lp : out.gold_logprobs[i]) nll -= lp;
    records[i]["gold_nll"] = nll;
    records[i]["gold_tokens"] = out.gold_logprobs[i].size();
  }
}

json example_record(const Example& ex, size_t index, const std::string* prompt) {
  json r;
  r["index"] = index;
  r["source"] = ex.location();
  r["input"] = ex.fields;
  for (const auto& [k, v] : ex.lists) r["input"][k] = v;
  if (prompt) r["prompt"] = *prompt;
  return r;
}

void EvalRun::check_fits_context(const tasks::Example& ex, size_t prompt_tokens) const {
  const int64_t n_ctx = model.config().n_ctx_train;
  const int64_t adapter = opt.scorer.base ? opt.scorer.base->length() : 0;
  const int64_t need = adapter + static_cast<int64_t>(prompt_tokens) + 1;  // + one answer token
  if (n_ctx <= 0 || need <= n_ctx) return;
  throw std::invalid_argument(
      ex.location() + ": the prompt is " + std::to_string(prompt_tokens) + " tokens" +
      (adapter ? " after " + std::to_string(adapter) + " adapter tokens" : std::string()) +
      "; with an answer that exceeds the model's context length of " + std::to_string(n_ctx) +
      " (fewer demos, or a shorter input)");
}

std::vector<int32_t> EvalRun::encode_continuation(const std::string& text) const {
  return tok.encode(text, false, false);
}

std::vector<std::vector<ContinuationScore>> EvalRun::score(
    const std::vector<ScoreRequest>& requests, const std::string& stage, bool with_adapter) {
  ScorerOptions so = opt.scorer;
  if (!with_adapter) so.base = nullptr;
  ContinuationScorer scorer(model, so);
  if (progress) progress->start(stage, requests.size(), "prompts");
  auto out = scorer.score(requests, [&](size_t done) {
    if (progress) progress->update(done);
  });
  if (progress) progress->finish();
  const ScorerStats& s = scorer.stats();
  stats.groups += s.groups;
  stats.prefix_tokens += s.prefix_tokens;
  stats.prefix_reused += s.prefix_reused;
  stats.suffix_tokens += s.suffix_tokens;
  stats.padded_tokens += s.padded_tokens;
  stats.forwards += s.forwards;
  return out;
}

bool EvalRun::wants(Need need) const {
  for (const std::string& name : task.metrics) {
    const Metric* m = find_metric(name);
    if (m != nullptr && m->needs == need) return true;
  }
  return false;
}

}  // namespace detail

namespace {

// The split's examples, sampled to `limit` (stratified by `stratify_field` when not empty).
std::vector<Example> split_sample(const tasks::TaskData& data, const std::string& split,
                                  size_t limit, uint64_t seed, const std::string& stratify_field) {
  std::vector<Example> all;
  if (split == "all") {
    for (const auto* s : {&data.train, &data.dev, &data.test})
      all.insert(all.end(), s->begin(), s->end());
  } else if (split == "train" || split == "dev" || split == "test") {
    all = data.split(split);
  } else {
    throw std::invalid_argument("unknown split '" + split + "' (train, dev, test or all)");
  }
  if (all.empty()) throw std::invalid_argument("split '" + split + "' has no examples");
  if (limit == 0 || limit >= all.size()) return all;
  return tasks::sample_examples(all, limit, seed, stratify_field);
}

}  // namespace

std::vector<Example> eval_examples(const tasks::TaskSpec& task, const tasks::TaskData& data,
                                   const std::string& split, size_t limit, uint64_t seed) {
  const bool stratify = task.type == tasks::TaskType::Classification;
  return split_sample(data, split, limit, seed, stratify ? task.target_field() : "");
}

EvalResult run_eval(const tasks::TaskSpec& task_in, const tasks::TaskData& data, const Model& model,
                    const Tokenizer& tok, const EvalOptions& opt, Progress* progress) {
  const auto t_start = std::chrono::steady_clock::now();
  const tasks::TaskSpec task = detail::apply_overrides(task_in, opt);
  const uint64_t seed = opt.seed.value_or(0);
  detail::EvalRun run(task, data, eval_examples(task, data, opt.split, opt.limit, seed), model, tok,
                      opt, progress);
  Outcomes out;
  out.n = run.size();
  strategy_for(task.type)(run, out);
  if (run.wants(Need::GoldLogprobs)) detail::record_gold_nll(run.records, out);
  BootstrapOptions boot;
  boot.resamples = opt.bootstrap_resamples;
  boot.seed = seed;
  EvalResult res;
  res.headline = detail::compute_metrics(run.task, out, boot, run.metrics);
  res.seconds = seconds_since(t_start);
  res.summary = detail::summary_json(run, boot, res.seconds);
  res.records = std::move(run.records);
  return res;
}

std::vector<ExamplePrompt> example_prompts(const tasks::TaskSpec& task_in,
                                           const tasks::TaskData& data,
                                           const std::vector<Example>& examples,
                                           const Tokenizer& tok, const EvalOptions& opt) {
  const tasks::TaskSpec task = detail::apply_overrides(task_in, opt);
  const tasks::PromptBuilder prompts(task, opt.template_name);
  const PromptFormatter format(task, tok);
  const auto demos = detail::select_demos(task, data, prompts, examples);
  const bool ranked =
      task.type == tasks::TaskType::Classification || task.type == tasks::TaskType::MultipleChoice;
  const bool calibrated = task.scoring.calibration && ranked;
  std::vector<ExamplePrompt> out(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    out[i].text = format(prompts.render(examples[i], demos[i]));
    if (!calibrated) continue;
    for (const std::string& cf : task.scoring.calibration_inputs)
      out[i].content_free.push_back(format(prompts.render_content_free(examples[i], demos[i], cf)));
  }
  return out;
}

std::vector<std::vector<double>> continuation_log_probs(
    const tasks::TaskSpec& task_in, const tasks::TaskData& data,
    const std::vector<Example>& examples, const Model& model, const Tokenizer& tok,
    const EvalOptions& opt, const std::vector<std::string>& continuations) {
  const tasks::TaskSpec task = detail::apply_overrides(task_in, opt);
  if (examples.empty()) return {};
  detail::EvalRun run(task, data, examples, model, tok, opt, nullptr);
  std::vector<std::vector<int32_t>> ids;
  for (const std::string& c : continuations) {
    ids.push_back(run.encode_continuation(c));
    if (ids.back().empty()) throw std::invalid_argument("continuation '" + c + "' has no tokens");
  }
  std::vector<ScoreRequest> requests(run.size());
  for (size_t i = 0; i < run.size(); ++i) requests[i] = {run.ids[i], ids};
  const auto scores = run.score(requests, "continuations");
  std::vector<std::vector<double>> out(run.size());
  for (size_t i = 0; i < run.size(); ++i) {
    for (const ContinuationScore& s : scores[i]) out[i].push_back(s.sum());
  }
  return out;
}

std::vector<LabelDistribution> classify(const tasks::TaskSpec& task_in, const tasks::TaskData& data,
                                        const Model& model, const Tokenizer& tok,
                                        std::vector<Example> inputs, const EvalOptions& opt) {
  const tasks::TaskSpec task = detail::apply_overrides(task_in, opt);
  if (task.type != tasks::TaskType::Classification) {
    throw std::invalid_argument("task '" + task.name + "' is not a classification task");
  }
  if (inputs.empty()) return {};
  detail::EvalRun run(task, data, std::move(inputs), model, tok, opt, nullptr);
  const std::vector<std::vector<double>> log_probs = detail::label_log_probabilities(run);
  std::vector<LabelDistribution> out(run.size());
  for (size_t i = 0; i < run.size(); ++i) {
    const std::vector<std::string> names = run.prompts.class_names(run.examples[i]);
    for (size_t l = 0; l < names.size(); ++l) {
      out[i].labels.emplace_back(names[l], std::exp(log_probs[i][l]));
    }
    std::stable_sort(out[i].labels.begin(), out[i].labels.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
  }
  return out;
}

}  // namespace ptune::eval
