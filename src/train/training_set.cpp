#include "ptune/train/training_set.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "ptune/eval/prompt_formatter.h"
#include "ptune/tasks/prompt.h"

namespace ptune::train {

TrainingSet TrainingSet::build(const tasks::TaskSpec& task,
                               const std::vector<tasks::Example>& split, const Tokenizer& tok,
                               const std::string& template_name) {
  if (task.type == tasks::TaskType::MultipleChoice) {
    throw std::invalid_argument("tune: multiple-choice tasks are not supported yet");
  }
  if (split.empty()) throw std::invalid_argument("tune: the task has no training examples");
  tasks::PromptBuilder prompts(task, template_name);
  const tasks::RenderedPrompt probe = prompts.render(split.front(), {});
  if (probe.has_soft()) {
    throw std::invalid_argument("tune: template '" + template_name +
                                "' has {soft...} slots; the learned prompt goes before the whole "
                                "prompt, pick a template without them");
  }
  eval::PromptFormatter format(task, tok);
  TrainingSet set;
  set.lm_loss = task.type == tasks::TaskType::Generation || task.type == tasks::TaskType::QA;
  // What ends a target: the chat template's end of turn, else the first stop string, so the
  // model learns to stop where generation would.
  std::string end = format.end_of_turn();
  if (end.empty() && !task.generation.stop.empty()) end = task.generation.stop.front();
  const std::vector<int32_t> end_ids = tok.encode(end, false, /*parse_special=*/true);

  std::vector<int64_t> label_tokens;
  for (const tasks::Example& ex : split) {
    Item item;
    item.context = tok.encode(format(prompts.render(ex, {})));
    if (set.lm_loss) {
      item.target =
          tok.encode(task.scoring.label_prefix + prompts.references(ex).at(0), false, false);
      item.target.insert(item.target.end(), end_ids.begin(), end_ids.end());
      if (item.target.empty())
        throw std::invalid_argument("tune: " + ex.location() + ": empty target");
    } else {
      item.label = static_cast<int64_t>(prompts.gold_index(ex));
      if (label_tokens.empty()) {
        const size_t n_labels = prompts.class_names(ex).size();
        label_tokens.assign(n_labels, -1);
        for (const tasks::Candidate& c : prompts.candidates(ex)) {
          if (label_tokens[c.label] < 0)
            label_tokens[c.label] = tok.encode(c.continuation, false, false).at(0);
        }
        if (std::set<int64_t>(label_tokens.begin(), label_tokens.end()).size() != n_labels) {
          throw std::invalid_argument(
              "tune: two labels start with the same token; the verbalizer loss needs distinct "
              "first tokens");
        }
      }
    }
    set.items.push_back(std::move(item));
  }
  if (!set.lm_loss) set.label_tokens = torch::tensor(label_tokens);
  return set;
}

std::vector<int64_t> TrainingSet::lengths() const {
  std::vector<int64_t> out;
  for (const Item& it : items)
    out.push_back(static_cast<int64_t>(it.context.size() + it.target.size()));
  return out;
}

BatchInputs collate(const TrainingSet& set, const std::vector<int64_t>& indices,
                    bool share_prefix) {
  const int64_t B = static_cast<int64_t>(indices.size());
  // S: the longest common prefix of the rows' contexts, short of each row's last context token
  // (the classification logit, and the position predicting the first target token).
  int64_t S = 0;
  if (share_prefix && B > 1) {
    const std::vector<int32_t>& first = set.items[indices[0]].context;
    S = static_cast<int64_t>(first.size()) - 1;
    for (int64_t r = 1; r < B; ++r) {
      const std::vector<int32_t>& c = set.items[indices[r]].context;
      S = std::min<int64_t>(S, static_cast<int64_t>(c.size()) - 1);
      int64_t k = 0;
      while (k < S && c[k] == first[k]) ++k;
      S = k;
    }
    S = std::max<int64_t>(S, 0);
  }
  std::vector<std::vector<int64_t>> rows(B);  // each row's input tokens after the shared ones
  int64_t T = 0, K = 0;
  for (int64_t r = 0; r < B; ++r) {
    const TrainingSet::Item& it = set.items[indices[r]];
    rows[r].assign(it.context.begin() + S, it.context.end());
    if (!it.target.empty()) rows[r].insert(rows[r].end(), it.target.begin(), it.target.end() - 1);
    T = std::max<int64_t>(T, static_cast<int64_t>(rows[r].size()));
    K = std::max<int64_t>(K, static_cast<int64_t>(it.target.size()));
  }
  BatchInputs b;
  b.shared = torch::empty({1, S}, torch::kInt64);
  if (S > 0) {
    const std::vector<int32_t>& first = set.items[indices[0]].context;
    for (int64_t k = 0; k < S; ++k) b.shared[0][k] = first[k];
  }
  b.ids = torch::zeros({B, T}, torch::kInt64);
  b.mask = torch::zeros({B, T}, torch::kInt64);
  if (set.lm_loss) {
    b.positions = torch::zeros({B, K}, torch::kInt64);
    b.targets = torch::full({B, K}, -100, torch::kInt64);
  } else {
    b.labels = torch::empty({B}, torch::kInt64);
  }
  auto* ids = b.ids.data_ptr<int64_t>();
  auto* mask = b.mask.data_ptr<int64_t>();
  for (int64_t r = 0; r < B; ++r) {
    const TrainingSet::Item& it = set.items[indices[r]];
    std::copy(rows[r].begin(), rows[r].end(), ids + r * T);
    std::fill(mask + r * T, mask + r * T + static_cast<int64_t>(rows[r].size()), 1);
    if (!set.lm_loss) {
      b.labels[r] = it.label;
      continue;
    }
    const int64_t first = static_cast<int64_t>(it.context.size()) - 1 - S;  // predicts target[0]
    for (size_t k = 0; k < it.target.size(); ++k) {
      b.positions[r][static_cast<int64_t>(k)] = first + static_cast<int64_t>(k);
      b.targets[r][static_cast<int64_t>(k)] = it.target[k];
    }
  }
  return b;
}

}  // namespace ptune::train
