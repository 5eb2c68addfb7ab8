// The objective a real search scores with: ptune eval's own code (eval::run_eval) on the
// candidate's task, so a searched prompt's scores are the scores `ptune eval` gives its task
// file. Per example: 1/0 for a correct/wrong label (classification, multiple choice), else the
// task's first per-example text metric (exact_match, token_f1, rouge_l).
//
// An example's key is the SHA-256 of: the model's identity, the objective's name, the prompt
// text the model sees (demos and chat template applied) and, under calibration, the content-free
// prompts, every label continuation, the normalization, and the example's gold value. Two
// candidates that render the same prompt share their scores, and candidates whose prompts begin
// alike (instruction and demos) share that head's keys/values (eval::PrefixMemo).
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "ptune/eval/evaluator.h"
#include "ptune/search/label_search.h"
#include "ptune/search/objective.h"
#include "ptune/search/search_data.h"

namespace ptune::search {

// The per-example metric a task is searched on: "accuracy" for ranked tasks, else the first of
// the task's metrics with per-example values. Throws std::invalid_argument when there is none
// (e.g. a generation task listing only bleu).
std::string objective_metric(const tasks::TaskSpec& task);

class ModelObjective : public Objective, public LabelWords {
 public:
  // `model_id` names the model in keys (file name and size, or its sha256); `base` carries the
  // scorer settings (batch size, shared prefix, an adapter). The references must outlive this.
  ModelObjective(const tasks::TaskSpec& task, const SearchData& data, const Model& model,
                 const Tokenizer& tokenizer, eval::EvalOptions base, std::string model_id);
  ModelObjective(const ModelObjective&) = delete;  // base_ points at prefixes_
  ModelObjective& operator=(const ModelObjective&) = delete;

  size_t size(Split split) const override { return data_.split(split).size(); }
  std::vector<std::string> keys(const Candidate& c, Split split,
                                const std::vector<size_t>& indices) override;
  std::vector<double> evaluate(const Candidate& c, Split split,
                               const std::vector<size_t>& indices) override;
  double mean_prompt_tokens(const Candidate& c, Split split,
                            const std::vector<size_t>& indices) override;

  // LabelWords: neighbours in the model's token-embedding table; log-probs through
  // eval::continuation_log_probs (the prompt run_eval builds).
  std::vector<std::string> neighbour_words(const std::string& text, size_t n) override;
  std::vector<std::vector<double>> word_log_probs(const Candidate& c, Split split,
                                                  const std::vector<size_t>& indices,
                                                  const std::vector<std::string>& words) override;

  const std::string& metric() const { return metric_; }
  const eval::PrefixMemo& prefix_memo() const { return prefixes_; }

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
  tasks::TaskData run_data_;       // train: the demo pool (copied once); test: what is being scored
  eval::PrefixMemo prefixes_;      // shared prompt heads across candidates and rungs
  torch::Tensor unit_embeddings_;  // [V, C] rows scaled to norm 1 (made on first use)
  torch::Tensor word_tokens_;      // [V] bool: a word start, letters only
};

}  // namespace ptune::search
