// Keys/values of prompts the engine has prefilled, kept so that a later prompt starting the same
// way (a shared system prompt, the same few-shot demos, one text scored under several labels by
// `ptune eval --endpoint`) runs only its new tokens. Engine thread only.
//
// An entry is one prefilled prompt: its adapter (held, so its address names it for the entry's
// life), its token ids, its keys/values [1, Hkv, A + T, D] per layer and, when the prefill
// scored the prompt (echo with logprobs), each token's log-prob with `top` alternatives. A
// lookup returns the entry sharing the longest token prefix with a prompt under the same
// adapter. Least recently used entries leave first when the byte budget is exceeded; an entry
// whose tokens a newer one extends is dropped for it.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <vector>

#include "ptune/generate/generator.h"
#include "ptune/model/past_kv.h"

namespace ptune::serve {

class PrefixCache {
 public:
  explicit PrefixCache(int64_t budget_bytes) : budget_(budget_bytes) {}

  struct Hit {
    PastKV kv;  // the adapter's and the first `tokens` prompt tokens' keys/values (views)
    size_t tokens = 0;
    std::vector<TokenDecoder::Step> steps;  // scoring: prompt tokens 1..tokens, else empty
  };
  // The reusable head of `prompt`: at most prompt.size() - 1 tokens (one is left to run, so the
  // next token's logits exist), at least kMinReuse, and only tokens whose scores the entry holds
  // with `top` alternatives when `top` >= 0 (a scoring prefill). Unset for none.
  std::optional<Hit> find(const std::shared_ptr<const PastKV>& adapter,
                          const std::vector<int32_t>& prompt, int top);
  // `steps`: prompt tokens 1.. scored with `top` alternatives, or empty with top -1.
  void insert(std::shared_ptr<const PastKV> adapter, std::vector<int32_t> tokens, PastKV kv,
              std::vector<TokenDecoder::Step> steps, int top);

  int64_t bytes() const { return bytes_; }
  size_t entries() const { return entries_.size(); }
  static constexpr size_t kMinReuse = 4;  // shorter heads are not worth the lookup

 private:
  struct Entry {
    std::shared_ptr<const PastKV> adapter;
    std::vector<int32_t> tokens;
    PastKV kv;
    std::vector<TokenDecoder::Step> steps;
    int top = -1;
    int64_t bytes = 0;
  };
  void evict();

  int64_t budget_;
  int64_t bytes_ = 0;
  std::list<Entry> entries_;  // most recently used first
};

}  // namespace ptune::serve
