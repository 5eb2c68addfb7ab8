// Classification and multiple choice: rank classification. Every candidate continuation (a
// label's verbalizer words, or the example's choices) is scored after the prompt; a label scores
// the max over its words (sum or mean log-prob); optional contextual calibration divides out the
// label prior measured on content-free prompts; the prediction is the best label. The two task
// types differ only in their label names.
#include <algorithm>
#include <cmath>
#include <map>

#include "eval_run.h"
#include "ptune/eval/calibration.h"

namespace ptune::eval::detail {
namespace {

using nlohmann::json;

// What is scored: one request per example (its prompt and candidates), then the deduplicated
// content-free prompts of calibration.
struct RankPlan {
  std::vector<ScoreRequest> requests;
  std::vector<std::vector<tasks::Candidate>> candidates;  // per example
  std::vector<size_t> gold;                               // per example: the gold label index
  std::vector<std::vector<size_t>> content_free;          // per example: its calibration requests
};

// `with_gold`: also each example's gold index (examples to classify have none).
RankPlan plan_requests(const EvalRun& run, bool with_gold = true) {
  const size_t n = run.size();
  RankPlan plan;
  plan.requests.resize(n);
  plan.candidates.resize(n);
  plan.content_free.resize(n);
  plan.gold.resize(n);
  for (size_t i = 0; i < n; ++i) {
    plan.candidates[i] = run.prompts.candidates(run.examples[i]);
    // A bad gold fails before scoring.
    if (with_gold) plan.gold[i] = run.prompts.gold_index(run.examples[i]);
    plan.requests[i].context = run.ids[i];
    for (const auto& c : plan.candidates[i]) {
      plan.requests[i].continuations.push_back(run.encode_continuation(c.continuation));
    }
  }
  return plan;
}

// Content-free prompts, deduplicated (with fixed demos every example shares the same few).
void add_content_free(const EvalRun& run, RankPlan& plan) {
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < run.size(); ++i) {
    for (const std::string& cf : run.task.scoring.calibration_inputs) {
      const util::MarkedText prompt =
          run.format.marked(run.prompts.render_content_free(run.examples[i], run.demos[i], cf));
      std::string key = prompt.text;
      for (const auto& c : plan.candidates[i]) key += '\x1f' + c.continuation;
      auto it = seen.find(key);
      if (it == seen.end()) {
        it = seen.emplace(key, plan.requests.size()).first;
        ScoreRequest r;
        r.context = run.tok.encode(prompt);
        r.continuations = plan.requests[i].continuations;
        plan.requests.push_back(std::move(r));
      }
      plan.content_free[i].push_back(it->second);
    }
  }
}

// The label scores of example `ex` from the scores of request `req` (its own prompt or one of
// its content-free prompts): per label, the max over its candidates.
std::vector<double> label_scores(const EvalRun& run, const RankPlan& plan,
                                 const std::vector<std::vector<ContinuationScore>>& scores,
                                 size_t req, size_t ex) {
  return best_label_scores(plan.candidates[ex], run.prompts.class_names(run.examples[ex]).size(),
                           scores[req],
                           run.task.scoring.normalize == tasks::ScoreNormalization::Mean);
}

// Label log-probabilities of example i, calibrated when the task asks (the prior goes to the
// record).
std::vector<double> label_log_probs(const EvalRun& run, const RankPlan& plan,
                                    const std::vector<std::vector<ContinuationScore>>& scores,
                                    size_t i, const std::vector<double>& raw, json& record) {
  if (!run.task.scoring.calibration) return log_normalize(raw);
  std::vector<std::vector<double>> cf;
  for (size_t q : plan.content_free[i]) cf.push_back(label_scores(run, plan, scores, q, i));
  const std::vector<double> prior = content_free_log_prior(cf);
  const std::vector<std::string> names = run.prompts.class_names(run.examples[i]);
  record["calibration_prior"] = json::object();
  for (size_t l = 0; l < names.size(); ++l)
    record["calibration_prior"][names[l]] = std::exp(prior[l]);
  return calibrate(raw, prior);
}

// The record's prediction, gold, per-label scores and every candidate's token log-probs.
void record_ranking(const EvalRun& run, const RankPlan& plan,
                    const std::vector<ContinuationScore>& scores, size_t i,
                    const std::vector<double>& raw, const std::vector<double>& probs, size_t pred,
                    size_t gold, json& r) {
  const std::vector<std::string> names = run.prompts.class_names(run.examples[i]);
  r["prediction"] = names[pred];
  r["gold"] = names[gold];
  r["correct"] = pred == gold;
  json per = json::object();
  for (size_t l = 0; l < names.size(); ++l) {
    per[names[l]] = {{"score", raw[l]}, {"prob", std::exp(probs[l])}};
  }
  json words = json::array();
  for (size_t j = 0; j < plan.candidates[i].size(); ++j) {
    words.push_back({{"label", names[plan.candidates[i][j].label]},
                     {"continuation", plan.candidates[i][j].continuation},
                     {"token_logprobs", scores[j].token_logprobs}});
  }
  r["label_scores"] = per;
  r["continuations"] = words;
}

// The gold label's first word: its log-probs are the gold continuation's NLL.
std::vector<double> gold_logprobs(const RankPlan& plan,
                                  const std::vector<ContinuationScore>& scores, size_t i,
                                  size_t gold) {
  for (size_t j = 0; j < plan.candidates[i].size(); ++j) {
    if (plan.candidates[i][j].label == gold) return scores[j].token_logprobs;
  }
  return {};
}

// Scores every example and fills the label outcomes (not the label names); returns the largest
// number of labels an example has.
size_t rank_examples(EvalRun& run, Outcomes& out) {
  const size_t n = run.size();
  RankPlan plan = plan_requests(run);
  if (run.task.scoring.calibration) add_content_free(run, plan);
  const auto scores = run.score(plan.requests, "scoring");
  out.gold.resize(n);
  out.predicted.resize(n);
  out.gold_logprobs.resize(n);
  size_t n_classes = 0;
  for (size_t i = 0; i < n; ++i) {
    n_classes = std::max(n_classes, run.prompts.class_names(run.examples[i]).size());
    const size_t gold = plan.gold[i];
    const std::vector<double> raw = label_scores(run, plan, scores, i, i);
    const std::vector<double> probs = label_log_probs(run, plan, scores, i, raw, run.records[i]);
    const size_t pred = argmax(probs);
    record_ranking(run, plan, scores[i], i, raw, probs, pred, gold, run.records[i]);
    out.gold[i] = gold;
    out.predicted[i] = pred;
    out.gold_logprobs[i] = gold_logprobs(plan, scores[i], i, gold);
  }
  return n_classes;
}

}  // namespace

std::vector<double> best_label_scores(const std::vector<tasks::Candidate>& candidates,
                                      size_t labels, const std::vector<ContinuationScore>& scores,
                                      bool mean) {
  std::vector<double> s(labels, -INFINITY);
  for (size_t j = 0; j < candidates.size(); ++j) {
    const size_t label = candidates[j].label;
    s[label] = std::max(s[label], mean ? scores[j].mean() : scores[j].sum());
  }
  return s;
}

std::vector<std::vector<double>> label_log_probabilities(EvalRun& run) {
  RankPlan plan = plan_requests(run, /*with_gold=*/false);
  if (run.task.scoring.calibration) add_content_free(run, plan);
  const auto scores = run.score(plan.requests, "scoring");
  std::vector<std::vector<double>> out;
  for (size_t i = 0; i < run.size(); ++i) {
    const std::vector<double> raw = label_scores(run, plan, scores, i, i);
    out.push_back(label_log_probs(run, plan, scores, i, raw, run.records[i]));
  }
  return out;
}

void classification_strategy(EvalRun& run, Outcomes& out) {
  rank_examples(run, out);
  out.labels = run.prompts.class_names(run.examples[0]);  // the task's labels, in file order
}

void multiple_choice_strategy(EvalRun& run, Outcomes& out) {
  const size_t n_choices = rank_examples(run, out);
  // Choices differ per example; tables name them by position.
  for (size_t l = 0; l < n_choices; ++l)
    out.labels.push_back(std::string(1, static_cast<char>('A' + l % 26)));
}

}  // namespace ptune::eval::detail
