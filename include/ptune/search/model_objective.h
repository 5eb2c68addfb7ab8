// The objective a real search scores with: ptune eval's own code (eval::run_eval) on the
// candidate's task, so a searched prompt's scores are the scores `ptune eval` gives its task
// file. Per example: 1/0 for a correct/wrong label (classification, multiple choice), else the
// task's first per-example text metric (exact_match, token_f1, rouge_l).
//
// An example's key is the SHA-256 of: the model's identity, the objective's name, the prompt
// text the model sees (demos and chat template applied) and, under calibration, the content-free
// prompts, every label continuation, the normalization, and the example's gold value. Two
// candidates that render the same prompt share their scores.
#pragma once

#include <string>
#include <vector>

#include "ptune/eval/evaluator.h"
#include "ptune/search/objective.h"
#include "ptune/search/search_data.h"

namespace ptune::search {

// The per-example metric a task is searched on: "accuracy" for ranked tasks, else the first of
// the task's metrics with per-example values. Throws std::invalid_argument when there is none
// (e.g. a generation task listing only bleu).
std::string objective_metric(const tasks::TaskSpec& task);

class ModelObjective : public Objective {
 public:
  // `model_id` names the model in keys (file name and size, or its sha256); `base` carries the
  // scorer settings (batch size, shared prefix, an adapter). The references must outlive this.
  ModelObjective(const tasks::TaskSpec& task, const SearchData& data, const Model& model,
                 const Tokenizer& tokenizer, eval::EvalOptions base, std::string model_id);

  size_t size(Split split) const override { return data_.split(split).size(); }
  std::vector<std::string> keys(const Candidate& c, Split split,
                                const std::vector<size_t>& indices) override;
  std::vector<double> evaluate(const Candidate& c, Split split,
                               const std::vector<size_t>& indices) override;

  const std::string& metric() const { return metric_; }

 private:
  // run_data_ with the examples `indices` of `split` as its test split.
  const tasks::TaskData& with_examples(Split split, const std::vector<size_t>& indices);

  const tasks::TaskSpec& task_;
  const SearchData& data_;
  const Model& model_;
  const Tokenizer& tok_;
  eval::EvalOptions base_;
  std::string model_id_;
  std::string metric_;
  tasks::TaskData run_data_;  // train: the demo pool (copied once); test: what is being scored
};

}  // namespace ptune::search
