// See label_trie.h.
#include "label_trie.h"

#include <algorithm>
#include <map>

namespace ptune::eval::detail {

namespace {

// The tensors of one forward over rows [begin, end): tokens, positions, node mask, tree mask.
struct TrieBatch {
  torch::Tensor ids, positions, node_mask, tree, rows;
  int64_t nodes = 0;  // N, the widest trie
};

TrieBatch make_batch(const std::vector<TrieRow>& rows, size_t begin, size_t end) {
  TrieBatch b;
  for (size_t r = begin; r < end; ++r) {
    b.nodes = std::max<int64_t>(b.nodes, static_cast<int64_t>(rows[r].trie.size()));
  }
  const int64_t R = static_cast<int64_t>(end - begin), N = b.nodes;
  const auto long_opts = torch::TensorOptions().dtype(torch::kInt64);
  b.ids = torch::zeros({R, N}, long_opts);
  b.positions = torch::zeros({R, N}, long_opts);
  b.node_mask = torch::zeros({R, N}, long_opts);
  b.tree = torch::zeros({R, N, N}, torch::TensorOptions().dtype(torch::kBool));
  b.rows = torch::zeros({R}, long_opts);
  auto ids = b.ids.accessor<int64_t, 2>();
  auto pos = b.positions.accessor<int64_t, 2>();
  auto nm = b.node_mask.accessor<int64_t, 2>();
  auto tree = b.tree.accessor<bool, 3>();
  for (int64_t k = 0; k < R; ++k) {
    const TrieRow& row = rows[begin + static_cast<size_t>(k)];
    const LabelTrie& t = row.trie;
    b.rows[k] = row.batch_row;
    for (int64_t n = 0; n < N; ++n) tree[k][n][n] = true;  // padding nodes see themselves
    for (size_t n = 0; n < t.size(); ++n) {
      ids[k][static_cast<int64_t>(n)] = t.token[n];
      pos[k][static_cast<int64_t>(n)] = row.length + t.depth[n] - 1;
      nm[k][static_cast<int64_t>(n)] = 1;
      for (int32_t a = t.parent[n]; a >= 0; a = t.parent[static_cast<size_t>(a)]) {
        tree[k][static_cast<int64_t>(n)][a] = true;
      }
    }
  }
  return b;
}

// Runs rows [begin, end) and appends each continuation's later token log-probs.
void score_chunk(const Model& model, const PastKV& state, const torch::Tensor& mask,
                 std::vector<TrieRow>& rows, size_t begin, size_t end, ScorerStats& stats) {
  const TrieBatch b = make_batch(rows, begin, end);
  const torch::Device dev = model.device();
  const bool all_rows = static_cast<int64_t>(end - begin) == state.batch() && begin == 0;
  const PastKV selected = all_rows ? PastKV{} : select_past_rows(state, b.rows.to(dev));
  ForwardArgs a;
  a.input_ids = b.ids.to(dev);
  a.position_ids = b.positions.to(dev);
  a.tree_mask = b.tree.to(dev);
  a.attention_mask = torch::cat({mask.index_select(0, b.rows), b.node_mask}, 1).to(dev);
  a.past = all_rows ? &state : &selected;
  a.logits_at = LogitsAt::All;
  const torch::Tensor logits = model.forward(a).logits;  // [R, N, V]
  ++stats.forwards;
  stats.suffix_tokens += b.node_mask.sum().item<int64_t>();
  stats.padded_tokens += b.ids.numel();
  // Every (row, node, token) read, gathered at once: log_softmax normalises each node over the
  // vocabulary; only the label tokens read leave the device.
  std::vector<int64_t> rk, nk, tk;
  for (size_t r = begin; r < end; ++r) {
    const TrieRow& row = rows[r];
    for (size_t j = 0; j < row.trie.path.size(); ++j) {
      const auto& c = row.request->continuations[j];
      for (size_t s = 0; s < row.trie.path[j].size(); ++s) {
        rk.push_back(static_cast<int64_t>(r - begin));
        nk.push_back(row.trie.path[j][s]);
        tk.push_back(c[s + 1]);
      }
    }
  }
  const auto opts = torch::TensorOptions().dtype(torch::kInt64);
  const torch::Tensor at_rows = torch::tensor(rk, opts).to(dev);
  const torch::Tensor at_nodes = torch::tensor(nk, opts).to(dev);
  const torch::Tensor lse = torch::logsumexp(logits.to(torch::kFloat32), -1);  // [R, N]
  const torch::Tensor picked =
      (logits.index({at_rows, at_nodes, torch::tensor(tk, opts).to(dev)}).to(torch::kFloat32) -
       lse.index({at_rows, at_nodes}))
          .cpu();
  auto lp = picked.accessor<float, 1>();
  size_t i = 0;
  for (size_t r = begin; r < end; ++r) {
    TrieRow& row = rows[r];
    for (size_t j = 0; j < row.trie.path.size(); ++j) {
      for (size_t s = 0; s < row.trie.path[j].size(); ++s) {
        (*row.out)[j].token_logprobs.push_back(lp[static_cast<int64_t>(i++)]);
      }
    }
  }
}

}  // namespace

void score_tries(const Model& model, const PastKV& state, const torch::Tensor& mask,
                 std::vector<TrieRow>& rows, int64_t node_budget, ScorerStats& stats) {
  size_t begin = 0;
  while (begin < rows.size()) {
    size_t end = begin + 1;
    int64_t widest = static_cast<int64_t>(rows[begin].trie.size());
    while (end < rows.size()) {
      const int64_t w = std::max<int64_t>(widest, static_cast<int64_t>(rows[end].trie.size()));
      if (w * static_cast<int64_t>(end + 1 - begin) > node_budget) break;
      widest = w;
      ++end;
    }
    score_chunk(model, state, mask, rows, begin, end, stats);
    begin = end;
  }
}

}  // namespace ptune::eval::detail

namespace ptune::eval {

LabelTrie LabelTrie::build(const std::vector<std::vector<int32_t>>& continuations) {
  LabelTrie t;
  std::map<std::pair<int32_t, int32_t>, int32_t> child;  // (parent, token) -> node
  for (const auto& c : continuations) {
    std::vector<int32_t> path;
    int32_t node = -1;
    for (size_t k = 0; k + 1 < c.size(); ++k) {  // the last token is read, never fed
      auto [it, fresh] = child.try_emplace({node, c[k]}, static_cast<int32_t>(t.token.size()));
      if (fresh) {
        t.token.push_back(c[k]);
        t.parent.push_back(node);
        t.depth.push_back(node < 0 ? 1 : t.depth[static_cast<size_t>(node)] + 1);
      }
      node = it->second;
      path.push_back(node);
    }
    t.path.push_back(std::move(path));
  }
  return t;
}

}  // namespace ptune::eval
