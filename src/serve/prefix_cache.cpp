// The engine's cache of prefilled prompt heads (see prefix_cache.h).
#include "ptune/serve/prefix_cache.h"

#include <algorithm>

namespace ptune::serve {

namespace {

int64_t kv_bytes(const PastKV& kv) {
  int64_t n = 0;
  for (const auto* layer : {&kv.keys, &kv.values}) {
    for (const torch::Tensor& t : *layer) n += t.numel() * static_cast<int64_t>(t.element_size());
  }
  return n;
}

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  return static_cast<size_t>(std::mismatch(a.begin(), a.begin() + n, b.begin()).first - a.begin());
}

// The first `length` positions of every layer's keys/values (views, no copy).
PastKV head_of(const PastKV& kv, int64_t length) {
  PastKV out;
  for (const torch::Tensor& t : kv.keys) out.keys.push_back(t.narrow(2, 0, length));
  for (const torch::Tensor& t : kv.values) out.values.push_back(t.narrow(2, 0, length));
  return out;
}

}  // namespace

std::optional<PrefixCache::Hit> PrefixCache::find(const std::shared_ptr<const PastKV>& adapter,
                                                  const std::vector<int32_t>& prompt, int top) {
  if (prompt.size() <= kMinReuse) return std::nullopt;
  auto best = entries_.end();
  size_t best_reuse = 0;
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->adapter != adapter || (top >= 0 && it->top < top)) continue;
    const size_t match = common_prefix(it->tokens, prompt);
    // Scoring needs the log-prob of the last reused token, which the entry holds only where that
    // token matched and one more did.
    size_t reuse = std::min(match, prompt.size() - 1);
    if (top >= 0 && reuse == match) reuse = match - (match > 0 ? 1 : 0);
    if (reuse > best_reuse) {
      best = it;
      best_reuse = reuse;
    }
  }
  if (best == entries_.end() || best_reuse < kMinReuse) return std::nullopt;
  entries_.splice(entries_.begin(), entries_, best);  // most recently used
  const Entry& e = entries_.front();
  Hit hit;
  const int64_t adapter_len = adapter ? adapter->length() : 0;
  hit.kv = head_of(e.kv, adapter_len + static_cast<int64_t>(best_reuse));
  hit.tokens = best_reuse;
  if (top >= 0) {
    // Tokens 1..reuse: the run after the head predicts token reuse + 1 onward.
    hit.steps.assign(e.steps.begin(), e.steps.begin() + static_cast<std::ptrdiff_t>(best_reuse));
    for (TokenDecoder::Step& s : hit.steps) {
      if (s.top.size() > static_cast<size_t>(top)) s.top.resize(static_cast<size_t>(top));
    }
  }
  return hit;
}

void PrefixCache::insert(std::shared_ptr<const PastKV> adapter, std::vector<int32_t> tokens,
                         PastKV kv, std::vector<TokenDecoder::Step> steps, int top) {
  if (budget_ <= 0 || tokens.size() <= kMinReuse) return;
  Entry e;
  e.bytes = kv_bytes(kv);
  if (e.bytes > budget_) return;
  // Entries this one extends (same adapter, their tokens a prefix of these, scored no better)
  // are dropped for it.
  for (auto it = entries_.begin(); it != entries_.end();) {
    const bool covered = it->adapter == adapter && it->tokens.size() <= tokens.size() &&
                         common_prefix(it->tokens, tokens) == it->tokens.size() && it->top <= top;
    if (covered) {
      bytes_ -= it->bytes;
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  e.adapter = std::move(adapter);
  e.tokens = std::move(tokens);
  e.kv = std::move(kv);
  e.steps = std::move(steps);
  e.top = top;
  bytes_ += e.bytes;
  entries_.push_front(std::move(e));
  evict();
}

void PrefixCache::evict() {
  while (bytes_ > budget_ && !entries_.empty()) {
    bytes_ -= entries_.back().bytes;
    entries_.pop_back();
  }
}

}  // namespace ptune::serve
