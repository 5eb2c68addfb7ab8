// Continuation scoring with a shared-prefix KV cache and one model state per context.
// Contract and the algorithm: include/ptune/eval/scorer.h.
#include "ptune/eval/scorer.h"

#include "label_trie.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace ptune::eval {

namespace {

size_t lcp(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t n = std::min(a.size(), b.size()), i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

void check_ids(const std::vector<int32_t>& ids, int64_t n_vocab, size_t request, const char* what) {
  if (ids.empty()) {
    throw std::invalid_argument("score: request " + std::to_string(request) + ": empty " + what);
  }
  for (int32_t id : ids) {
    if (id < 0 || id >= n_vocab) {
      throw std::invalid_argument("score: request " + std::to_string(request) + ": " + what +
                                  " token id " + std::to_string(id) + " outside the vocabulary (" +
                                  std::to_string(n_vocab) + ")");
    }
  }
}

// Ids inside the vocabulary, and every context + continuation (after `past` adapter tokens)
// inside the model's context length, all before the first forward.
void check_requests(const std::vector<ScoreRequest>& requests, const ModelConfig& model,
                    int64_t past) {
  for (size_t i = 0; i < requests.size(); ++i) {
    check_ids(requests[i].context, model.n_vocab, i, "context");
    size_t longest = 0;
    for (const auto& c : requests[i].continuations) {
      check_ids(c, model.n_vocab, i, "continuation");
      longest = std::max(longest, c.size());
    }
    const int64_t need = past + static_cast<int64_t>(requests[i].context.size() + longest);
    if (model.n_ctx_train > 0 && need > model.n_ctx_train) {
      throw std::invalid_argument("score: request " + std::to_string(i) + " needs " +
                                  std::to_string(need) + " tokens (" + std::to_string(past) +
                                  " adapter + " + std::to_string(requests[i].context.size()) +
                                  " prompt + " + std::to_string(longest) +
                                  " continuation), more than the model's context length of " +
                                  std::to_string(model.n_ctx_train));
    }
  }
}

// Trie nodes per forward of step 3: as asked, or so that their logits [nodes, V] stay under
// 64 MiB of floats.
int64_t trie_node_budget(const Model& model, int64_t asked) {
  if (asked > 0) return asked;
  return std::max<int64_t>(64, (int64_t{1} << 24) / std::max<int64_t>(1, model.config().n_vocab));
}

torch::Tensor to_tensor(const std::vector<int32_t>& ids, size_t begin = 0) {
  std::vector<int64_t> v(ids.begin() + static_cast<std::ptrdiff_t>(begin), ids.end());
  return torch::tensor(v, torch::kInt64);
}

}  // namespace

double ContinuationScore::sum() const {
  return std::accumulate(token_logprobs.begin(), token_logprobs.end(), 0.0);
}

double ContinuationScore::mean() const {
  return token_logprobs.empty() ? 0.0 : sum() / static_cast<double>(token_logprobs.size());
}

size_t common_prefix_length(const std::vector<const std::vector<int32_t>*>& seqs) {
  if (seqs.empty()) return 0;
  size_t n = seqs[0]->size();
  for (size_t i = 1; i < seqs.size(); ++i) n = std::min(n, lcp(*seqs[0], *seqs[i]));
  return n;
}

std::vector<PrefixGroup> group_by_prefix(const std::vector<std::vector<int32_t>>& contexts,
                                         int64_t min_prefix) {
  std::vector<PrefixGroup> groups;
  std::vector<size_t> remaining(contexts.size());
  std::iota(remaining.begin(), remaining.end(), 0);
  while (!remaining.empty()) {
    std::vector<size_t> sorted = remaining;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [&](size_t a, size_t b) { return contexts[a] < contexts[b]; });
    const size_t ref = sorted[sorted.size() / 2];
    // Usable shared length with the anchor: at least one own token must stay in the suffix.
    std::vector<size_t> shared(remaining.size());
    for (size_t k = 0; k < remaining.size(); ++k) {
      const auto& c = contexts[remaining[k]];
      size_t l = lcp(c, contexts[ref]);
      l = std::min({l, c.size() - 1, contexts[ref].size() - 1});
      shared[k] = l;
    }
    std::vector<size_t> desc = shared;
    std::sort(desc.rbegin(), desc.rend());
    size_t best = 0, best_gain = 0;
    for (size_t k = 0; k < desc.size(); ++k) {
      const size_t gain = desc[k] * (k + 1);
      if (gain > best_gain) best_gain = gain, best = desc[k];
    }
    PrefixGroup g;
    if (static_cast<int64_t>(best) < std::max<int64_t>(min_prefix, 1)) {
      g.prefix = 0;
      g.members = remaining;
      remaining.clear();
    } else {
      g.prefix = best;
      std::vector<size_t> rest;
      for (size_t k = 0; k < remaining.size(); ++k) {
        (shared[k] >= best ? g.members : rest).push_back(remaining[k]);
      }
      remaining = std::move(rest);
    }
    groups.push_back(std::move(g));
  }
  return groups;
}

PastKV compute_prefix(const Model& model, const std::vector<int32_t>& ids, const PastKV* base) {
  if (ids.empty()) return base ? *base : PastKV{};
  torch::InferenceMode guard;
  ForwardArgs a;
  a.input_ids = to_tensor(ids).unsqueeze(0).to(model.device());
  a.past = base;
  a.return_present = true;
  a.logits_at = LogitsAt::None;
  return model.forward(a).present;
}

PastKV PrefixMemo::get(const Model& model, const std::vector<int32_t>& ids, const PastKV* base,
                       bool* computed) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->base == base && it->ids == ids) {
      entries_.splice(entries_.begin(), entries_, it);
      ++hits_;
      if (computed) *computed = false;
      return entries_.front().kv;
    }
  }
  ++misses_;
  if (computed) *computed = true;
  PastKV kv = compute_prefix(model, ids, base);
  int64_t bytes = 0;
  for (size_t l = 0; l < kv.keys.size(); ++l)
    bytes += (kv.keys[l].numel() + kv.values[l].numel()) *
             static_cast<int64_t>(kv.keys[l].element_size());
  entries_.push_front({base, ids, kv, bytes});
  bytes_ += bytes;
  while (bytes_ > budget_ && entries_.size() > 1) {
    bytes_ -= entries_.back().bytes;
    entries_.pop_back();
  }
  return kv;
}

PastKV shared_prefix(const Model& model, const std::vector<int32_t>& ids, const PastKV* base,
                     PrefixMemo* memo, bool* computed) {
  if (memo && !ids.empty()) return memo->get(model, ids, base, computed);
  if (computed) *computed = !ids.empty();
  return compute_prefix(model, ids, base);
}

ContinuationScorer::ContinuationScorer(const Model& model, ScorerOptions options)
    : model_(model), opt_(options) {
  if (opt_.batch_size < 1) throw std::invalid_argument("scorer: batch_size must be >= 1");
}

namespace {

// NaN log-probs rank as nothing and argmax would silently pick the first label: a model or
// adapter that produces them is an error, named by the prompt it appeared in.
void check_finite(const std::vector<std::vector<ContinuationScore>>& scores) {
  for (size_t i = 0; i < scores.size(); ++i) {
    for (size_t j = 0; j < scores[i].size(); ++j) {
      for (float lp : scores[i][j].token_logprobs) {
        if (!std::isfinite(lp)) {
          throw std::runtime_error("score: prompt " + std::to_string(i) + ", continuation " +
                                   std::to_string(j) +
                                   ": the model's log-probs are NaN or Inf (check the model "
                                   "and adapter weights)");
        }
      }
    }
  }
}

}  // namespace

std::vector<std::vector<ContinuationScore>> ContinuationScorer::score(
    const std::vector<ScoreRequest>& requests, const ScoreProgress& progress) {
  torch::InferenceMode guard;
  check_requests(requests, model_.config(), opt_.base ? opt_.base->length() : 0);
  stats_ = {};
  std::vector<std::vector<ContinuationScore>> out(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) out[i].resize(requests[i].continuations.size());

  std::vector<std::vector<int32_t>> contexts;
  contexts.reserve(requests.size());
  for (const auto& r : requests) contexts.push_back(r.context);
  std::vector<PrefixGroup> groups;
  if (opt_.prefix_cache) {
    groups = group_by_prefix(contexts, opt_.min_prefix);
  } else {
    PrefixGroup g;
    g.members.resize(requests.size());
    std::iota(g.members.begin(), g.members.end(), 0);
    groups.push_back(std::move(g));
  }
  stats_.groups = groups.size();

  const torch::Device dev = model_.device();
  const auto long_opts = torch::TensorOptions().dtype(torch::kInt64);
  size_t done = 0;
  for (PrefixGroup& g : groups) {
    const int64_t P = static_cast<int64_t>(g.prefix);  // context tokens in the shared prefix
    const std::vector<int32_t> head(contexts[g.members[0]].begin(),
                                    contexts[g.members[0]].begin() + P);
    bool computed = false;
    PastKV prefix = shared_prefix(model_, head, opt_.base, opt_.prefixes, &computed);
    const int64_t K = prefix.length();  // cached positions: adapter tokens + P
    if (computed) {
      stats_.prefix_tokens += P;
      ++stats_.forwards;
    } else {
      stats_.prefix_reused += P;
    }
    // Length buckets: sort by suffix length so a batch pads little.
    std::stable_sort(g.members.begin(), g.members.end(),
                     [&](size_t a, size_t b) { return contexts[a].size() < contexts[b].size(); });
    for (size_t start = 0; start < g.members.size(); start += opt_.batch_size) {
      const size_t stop = std::min(g.members.size(), start + opt_.batch_size);
      const int64_t B = static_cast<int64_t>(stop - start);
      int64_t T = 0;
      for (size_t k = start; k < stop; ++k) {
        T = std::max<int64_t>(T, static_cast<int64_t>(contexts[g.members[k]].size()) - P);
      }
      // Right-padded suffixes [B, T] and the mask over prefix + suffix [B, K + T].
      torch::Tensor ids = torch::zeros({B, T}, long_opts);
      torch::Tensor mask = torch::zeros({B, K + T}, long_opts);
      mask.narrow(1, 0, K).fill_(1);
      bool multi = false;
      for (int64_t b = 0; b < B; ++b) {
        const size_t i = g.members[start + b];
        const int64_t n = static_cast<int64_t>(contexts[i].size()) - P;
        ids[b].narrow(0, 0, n).copy_(to_tensor(contexts[i], P));
        mask[b].narrow(0, K, n).fill_(1);
        stats_.suffix_tokens += n;
        for (const auto& c : requests[i].continuations) multi = multi || c.size() > 1;
      }
      stats_.padded_tokens += B * T;
      PastKV past = K > 0 ? expand_past(prefix, B) : PastKV{};
      ForwardArgs a;
      a.input_ids = ids.to(dev);
      a.attention_mask = mask.to(dev);
      a.past = K > 0 ? &past : nullptr;
      a.return_present = multi;
      a.logits_at = LogitsAt::Last;
      ForwardResult r = model_.forward(a);
      ++stats_.forwards;
      torch::Tensor logp = torch::log_softmax(r.logits.to(torch::kFloat32), -1).cpu();  // [B, V]
      auto lp = logp.accessor<float, 2>();

      // First tokens from this forward; the rest through each context's label trie.
      std::vector<detail::TrieRow> rows;
      for (int64_t b = 0; b < B; ++b) {
        const size_t i = g.members[start + b];
        bool later = false;
        for (size_t j = 0; j < requests[i].continuations.size(); ++j) {
          const auto& c = requests[i].continuations[j];
          out[i][j].token_logprobs.assign(1, lp[b][c[0]]);
          later = later || c.size() > 1;
        }
        if (later) {
          const int64_t length = K + static_cast<int64_t>(contexts[i].size()) - P;
          rows.push_back({b, length, &requests[i], &out[i],
                          detail::LabelTrie::build(requests[i].continuations)});
        }
      }
      if (!rows.empty()) {
        detail::score_tries(model_, r.present, mask, rows,
                            trie_node_budget(model_, opt_.trie_nodes), stats_);
      }
      done += static_cast<size_t>(B);
      if (progress) progress(done);
    }
  }
  check_finite(out);
  return out;
}

std::vector<std::vector<ContinuationScore>> score_naive(const Model& model,
                                                        const std::vector<ScoreRequest>& requests) {
  torch::InferenceMode guard;
  check_requests(requests, model.config(), 0);
  std::vector<std::vector<ContinuationScore>> out(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& ctx = requests[i].context;
    for (const auto& c : requests[i].continuations) {
      std::vector<int32_t> all = ctx;
      all.insert(all.end(), c.begin(), c.end());
      const int64_t n = static_cast<int64_t>(c.size()),
                    first = static_cast<int64_t>(ctx.size()) - 1;
      ForwardArgs a;
      a.input_ids = to_tensor(all).unsqueeze(0).to(model.device());
      a.logits_at = LogitsAt::Positions;
      a.logit_positions =
          torch::arange(first, first + n, torch::kInt64).unsqueeze(0).to(model.device());
      torch::Tensor logp = torch::log_softmax(model.forward(a).logits[0].to(torch::kFloat32), -1);
      torch::Tensor picked = logp.gather(1, to_tensor(c).to(model.device()).unsqueeze(1)).cpu();
      ContinuationScore s;
      for (int64_t t = 0; t < n; ++t) s.token_logprobs.push_back(picked[t][0].item<float>());
      out[i].push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace ptune::eval
