// The model objective; contract in include/ptune/search/model_objective.h.
#include "ptune/search/model_objective.h"

#include <stdexcept>

#include "ptune/eval/metrics/registry.h"
#include "ptune/tasks/prompt.h"
#include "search/content_hash.h"

namespace ptune::search {
std::string objective_metric(const tasks::TaskSpec& task) {
  if (ranked_task(task)) return "accuracy";
  for (const std::string& name : task.metrics) {
    const eval::Metric* m = eval::find_metric(name);
    if (m && m->needs == eval::Need::Text && m->per_example) return name;
  }
  throw std::invalid_argument("search: task '" + task.name +
                              "' lists no metric with per-example values to search on (add "
                              "exact_match, token_f1 or rouge_l to its metrics)");
}

ModelObjective::ModelObjective(const tasks::TaskSpec& task, const SearchData& data,
                               const Model& model, const Tokenizer& tokenizer,
                               eval::EvalOptions base, std::string model_id)
    : task_(task),
      data_(data),
      model_(model),
      tok_(tokenizer),
      base_(std::move(base)),
      model_id_(std::move(model_id)),
      metric_(objective_metric(task)) {
  run_data_.train = data.pool;
  base_.split = "test";
  base_.limit = 0;
  base_.template_name = "default";
  base_.shots.reset();
  base_.calibration.reset();
  base_.normalize.reset();
  base_.bootstrap_resamples = 1;  // the search needs per-example scores, not intervals
  base_.show_prompt = false;
}

// The pool is the demo split, copied once; the examples to score become the "test" split.
const tasks::TaskData& ModelObjective::with_examples(Split split,
                                                     const std::vector<size_t>& indices) {
  const auto& all = data_.split(split);
  run_data_.test.clear();
  for (size_t i : indices) {
    if (i >= all.size()) throw std::out_of_range("search: example index past the split");
    run_data_.test.push_back(all[i]);
  }
  return run_data_;
}

std::vector<std::string> ModelObjective::keys(const Candidate& c, Split split,
                                              const std::vector<size_t>& indices) {
  const tasks::TaskSpec t = apply_candidate(task_, c);
  const tasks::TaskData& d = with_examples(split, indices);
  const std::vector<tasks::Example>& ex = d.test;
  const std::vector<eval::ExamplePrompt> prompts = eval::example_prompts(t, d, ex, tok_, base_);
  const tasks::PromptBuilder builder(t);
  std::string settings =
      model_id_ + '\x1e' + metric_ + '\x1e' + tasks::to_string(t.scoring.normalize);
  std::vector<std::string> out;
  for (size_t i = 0; i < ex.size(); ++i) {
    std::string text = settings + '\x1e' + prompts[i].text;
    for (const std::string& cf : prompts[i].content_free) text += '\x1d' + cf;
    text += '\x1e';
    if (ranked_task(t)) {
      for (const tasks::Candidate& cand : builder.candidates(ex[i]))
        text += std::to_string(cand.label) + '=' + cand.continuation + '\x1d';
      text += '\x1e' + std::to_string(builder.gold_index(ex[i]));
    } else {
      for (const std::string& r : builder.references(ex[i])) text += r + '\x1d';
    }
    out.push_back(content_hash(text));
  }
  return out;
}

std::vector<double> ModelObjective::evaluate(const Candidate& c, Split split,
                                             const std::vector<size_t>& indices) {
  const tasks::TaskSpec t = apply_candidate(task_, c);
  const eval::EvalResult r = eval::run_eval(t, with_examples(split, indices), model_, tok_, base_);
  std::vector<double> out;
  for (const nlohmann::json& rec : r.records) {
    if (ranked_task(t)) {
      out.push_back(rec.at("correct").get<bool>() ? 1.0 : 0.0);
    } else {
      out.push_back(rec.at(metric_).get<double>());
    }
  }
  return out;
}

}  // namespace ptune::search
