#include "ptune/train/training_set.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "ptune/eval/prompt_formatter.h"
#include "ptune/tasks/prompt.h"

namespace ptune::train {

namespace {

const std::vector<std::pair<const char*, Loss>> kLossNames = {{"auto", Loss::Auto},
                                                              {"first-token", Loss::FirstToken},
                                                              {"sequence", Loss::Sequence},
                                                              {"lm", Loss::Lm}};

// Each label's continuations as tokens (every verbalizer word, label prefix included), encoded
// as the scorer encodes them.
LabelContinuations label_continuations(const tasks::TaskSpec& task,
                                       const tasks::PromptBuilder& prompts,
                                       const tasks::Example& ex, const Tokenizer& tok) {
  LabelContinuations out;
  out.n_labels = static_cast<int64_t>(prompts.class_names(ex).size());
  out.mean = task.scoring.normalize == tasks::ScoreNormalization::Mean;
  for (const tasks::Candidate& c : prompts.candidates(ex)) {
    out.tokens.push_back(tok.encode(c.continuation, false, false));
    if (out.tokens.back().empty())
      throw std::invalid_argument("tune: label '" + prompts.class_names(ex).at(c.label) +
                                  "' has an empty verbalizer word");
    out.label.push_back(static_cast<int64_t>(c.label));
  }
  out.trie = eval::LabelTrie::build(out.tokens);
  return out;
}

// Each label's first token (of its first word); throws naming two labels that share one.
torch::Tensor first_tokens(const LabelContinuations& labels, const std::vector<std::string>& names,
                           const Tokenizer& tok) {
  std::vector<int64_t> first(static_cast<size_t>(labels.n_labels), -1);
  for (size_t j = 0; j < labels.tokens.size(); ++j) {
    int64_t& t = first[static_cast<size_t>(labels.label[j])];
    if (t < 0) t = labels.tokens[j].front();
  }
  std::map<int64_t, size_t> owner;
  for (size_t l = 0; l < first.size(); ++l) {
    auto [it, fresh] = owner.emplace(first[l], l);
    if (!fresh) {
      throw std::invalid_argument(
          "tune: --loss first-token needs labels with distinct first tokens, but '" +
          names[it->second] + "' and '" + names[l] + "' both start with '" +
          tok.decode({static_cast<int32_t>(first[l])}) +
          "'; use --loss sequence (whole labels) or --loss lm");
    }
  }
  return torch::tensor(first);
}

bool distinct_first_tokens(const LabelContinuations& labels) {
  std::map<int32_t, int64_t> first_label;
  for (size_t j = 0; j < labels.tokens.size(); ++j) {
    auto [it, fresh] = first_label.emplace(labels.tokens[j].front(), labels.label[j]);
    if (!fresh && it->second != labels.label[j]) return false;
  }
  return true;
}

// Generation and qa learn their reference; classification the loss asked for (auto resolved).
Loss resolve_loss(const tasks::TaskSpec& task, Loss asked, const LabelContinuations* labels) {
  if (task.type == tasks::TaskType::Generation || task.type == tasks::TaskType::QA) {
    if (asked == Loss::FirstToken || asked == Loss::Sequence)
      throw std::invalid_argument(std::string("tune: --loss ") + loss_name(asked) +
                                  " is for classification tasks; a " + tasks::to_string(task.type) +
                                  " task trains with --loss lm");
    return Loss::Lm;
  }
  if (asked != Loss::Auto) return asked;
  return distinct_first_tokens(*labels) ? Loss::FirstToken : Loss::Sequence;
}

}  // namespace

const char* loss_name(Loss loss) {
  for (const auto& [name, value] : kLossNames)
    if (value == loss) return name;
  return "?";
}

Loss loss_from_name(const std::string& name) {
  for (const auto& [n, value] : kLossNames)
    if (name == n) return value;
  throw std::invalid_argument("unknown loss '" + name +
                              "' (expected auto, first-token, sequence or lm)");
}

TrainingSet TrainingSet::build(const tasks::TaskSpec& task,
                               const std::vector<tasks::Example>& split, const Tokenizer& tok,
                               const std::string& template_name, Loss loss) {
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
  const bool classification = task.type == tasks::TaskType::Classification;
  TrainingSet set;
  if (classification) set.labels = label_continuations(task, prompts, split.front(), tok);
  set.loss = resolve_loss(task, loss, classification ? &set.labels : nullptr);
  if (set.loss == Loss::FirstToken)
    set.label_tokens = first_tokens(set.labels, prompts.class_names(split.front()), tok);

  eval::PromptFormatter format(task, tok);
  // What ends a generation target: the chat template's end of turn, else the first stop string,
  // so the model learns to stop where generation would.
  std::string end = format.end_of_turn();
  if (end.empty() && !task.generation.stop.empty()) end = task.generation.stop.front();
  const std::vector<int32_t> end_ids =
      classification ? std::vector<int32_t>{} : tok.encode(end, false, /*parse_special=*/true);
  for (const tasks::Example& ex : split) {
    Item item;
    item.context = tok.encode(format.marked(prompts.render(ex, {})));
    if (classification) {
      item.label = static_cast<int64_t>(prompts.gold_index(ex));
      if (set.lm()) {  // the gold label's first word, nothing after it (eval ranks, never
                       // generates)
        const auto& labels = set.labels.label;
        const size_t j = static_cast<size_t>(std::find(labels.begin(), labels.end(), item.label) -
                                             labels.begin());
        item.target = set.labels.tokens.at(j);
      }
    } else {
      item.target =
          tok.encode(task.scoring.label_prefix + prompts.references(ex).at(0), false, false);
      item.target.insert(item.target.end(), end_ids.begin(), end_ids.end());
      if (item.target.empty())
        throw std::invalid_argument("tune: " + ex.location() + ": empty target");
    }
    set.items.push_back(std::move(item));
  }
  if (set.loss != Loss::Sequence) set.labels = {};
  return set;
}

std::vector<int64_t> TrainingSet::lengths() const {
  const size_t nodes = loss == Loss::Sequence ? labels.trie.size() : 0;
  std::vector<int64_t> out;
  for (const Item& it : items)
    out.push_back(static_cast<int64_t>(it.context.size() + it.target.size() + nodes));
  return out;
}

namespace {

// S: the longest common prefix of the rows' contexts, short of each row's last context token
// (the classification logit, and the position predicting the first target token).
int64_t shared_length(const TrainingSet& set, const std::vector<int64_t>& indices) {
  if (indices.size() < 2) return 0;
  const std::vector<int32_t>& first = set.items[indices[0]].context;
  int64_t S = static_cast<int64_t>(first.size()) - 1;
  for (size_t r = 1; r < indices.size(); ++r) {
    const std::vector<int32_t>& c = set.items[indices[r]].context;
    S = std::min<int64_t>(S, static_cast<int64_t>(c.size()) - 1);
    int64_t k = 0;
    while (k < S && c[k] == first[k]) ++k;
    S = k;
  }
  return std::max<int64_t>(S, 0);
}

// The sequence loss's rows: context (after the shared tokens), then the trie's nodes, each node
// attending to the whole context and its ancestors, at context length + depth - 1.
void add_trie_rows(const TrainingSet& set, const std::vector<int64_t>& indices, int64_t S,
                   BatchInputs& b) {
  const eval::LabelTrie& trie = set.labels.trie;
  const int64_t B = b.ids.size(0), T = b.ids.size(1), N = static_cast<int64_t>(trie.size());
  b.tree = torch::zeros({B, T, T}, torch::kBool);
  b.position_ids = torch::zeros({B, T}, torch::kInt64);
  b.positions = torch::zeros({B, 1 + N}, torch::kInt64);
  auto tree = b.tree.accessor<bool, 3>();
  auto pos = b.position_ids.accessor<int64_t, 2>();
  auto ids = b.ids.accessor<int64_t, 2>();
  auto mask = b.mask.accessor<int64_t, 2>();
  auto read = b.positions.accessor<int64_t, 2>();
  for (int64_t r = 0; r < B; ++r) {
    const int64_t L = static_cast<int64_t>(set.items[indices[r]].context.size()) - S;
    for (int64_t i = 0; i < T; ++i) tree[r][i][i] = true;  // padding sees itself
    for (int64_t i = 0; i < L; ++i) {
      pos[r][i] = i;
      for (int64_t j = 0; j < i; ++j) tree[r][i][j] = true;
    }
    read[r][0] = L - 1;
    for (int64_t n = 0; n < N; ++n) {
      const int64_t at = L + n;
      ids[r][at] = trie.token[n];
      mask[r][at] = 1;
      pos[r][at] = L + trie.depth[n] - 1;
      read[r][1 + n] = at;
      for (int64_t j = 0; j < L; ++j) tree[r][at][j] = true;
      for (int32_t a = trie.parent[n]; a >= 0; a = trie.parent[static_cast<size_t>(a)])
        tree[r][at][L + a] = true;
    }
  }
}

}  // namespace

BatchInputs collate(const TrainingSet& set, const std::vector<int64_t>& indices,
                    bool share_prefix) {
  const int64_t B = static_cast<int64_t>(indices.size());
  const int64_t S = share_prefix ? shared_length(set, indices) : 0;
  const bool sequence = set.loss == Loss::Sequence;
  const int64_t nodes = sequence ? static_cast<int64_t>(set.labels.trie.size()) : 0;
  std::vector<std::vector<int64_t>> rows(B);  // each row's input tokens after the shared ones
  int64_t T = 0, K = 0;
  for (int64_t r = 0; r < B; ++r) {
    const TrainingSet::Item& it = set.items[indices[r]];
    rows[r].assign(it.context.begin() + S, it.context.end());
    if (!it.target.empty()) rows[r].insert(rows[r].end(), it.target.begin(), it.target.end() - 1);
    T = std::max<int64_t>(T, static_cast<int64_t>(rows[r].size()) + nodes);
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
  if (set.lm()) {
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
    if (!set.lm()) {
      b.labels[r] = it.label;
      continue;
    }
    const int64_t first = static_cast<int64_t>(it.context.size()) - 1 - S;  // predicts target[0]
    for (size_t k = 0; k < it.target.size(); ++k) {
      b.positions[r][static_cast<int64_t>(k)] = first + static_cast<int64_t>(k);
      b.targets[r][static_cast<int64_t>(k)] = it.target[k];
    }
  }
  if (sequence) add_trie_rows(set, indices, S, b);
  return b;
}

torch::Tensor label_scores(const LabelContinuations& labels, const torch::Tensor& logits) {
  // Every (read position, token) of every continuation, gathered at once; log-softmax only over
  // the positions read (all 1 + N of them are).
  std::vector<int64_t> at, token, owner;
  std::vector<float> weight;
  for (size_t j = 0; j < labels.tokens.size(); ++j) {
    const std::vector<int32_t>& c = labels.tokens[j];
    const float w = labels.mean ? 1.0f / static_cast<float>(c.size()) : 1.0f;
    for (size_t s = 0; s < c.size(); ++s) {
      at.push_back(s == 0 ? 0 : 1 + labels.trie.path[j][s - 1]);
      token.push_back(c[s]);
      owner.push_back(static_cast<int64_t>(j));
      weight.push_back(w);
    }
  }
  const torch::Device dev = logits.device();
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(dev);
  const torch::Tensor logp = torch::log_softmax(logits.to(torch::kFloat32), -1);  // [B, 1+N, V]
  const torch::Tensor picked =
      logp.index({torch::indexing::Slice(), torch::tensor(at, i64), torch::tensor(token, i64)}) *
      torch::tensor(weight).to(dev);  // [B, M]
  const int64_t B = logits.size(0), J = static_cast<int64_t>(labels.tokens.size());
  const torch::Tensor per_continuation =
      torch::zeros({B, J}, picked.options()).index_add(1, torch::tensor(owner, i64), picked);
  // A label scores its best word (rank classification's max); one word per label is the common
  // case and needs no reduction.
  bool one_each = J == labels.n_labels;
  for (int64_t j = 0; one_each && j < J; ++j) one_each = labels.label[j] == j;
  if (one_each) return per_continuation;
  std::vector<torch::Tensor> per_label;
  for (int64_t l = 0; l < labels.n_labels; ++l) {
    std::vector<int64_t> words;
    for (int64_t j = 0; j < J; ++j)
      if (labels.label[j] == l) words.push_back(j);
    per_label.push_back(std::get<0>(
        per_continuation.index_select(1, torch::tensor(words, i64)).max(1, /*keepdim=*/true)));
  }
  return torch::cat(per_label, 1);
}

}  // namespace ptune::train
