#include "tokenizer/bpe.h"

#include <queue>
#include <stdexcept>

#include "tokenizer/byte_unicode.h"

namespace ptune::tokenizer_detail {

BpeModel::BpeModel(const std::unordered_map<std::string, int32_t>& byte_level_vocab,
                   const std::vector<std::string>& merges) {
  for (int b = 0; b < 256; ++b) {
    const auto it = byte_level_vocab.find(byte_to_unicode(static_cast<uint8_t>(b)));
    byte_token_[b] = it == byte_level_vocab.end() ? -1 : it->second;
  }
  const auto lookup = [&](const std::string& text, size_t rank, const std::string& merge) {
    const auto it = byte_level_vocab.find(text);
    if (it == byte_level_vocab.end()) {
      throw std::invalid_argument("merge #" + std::to_string(rank) + " '" + merge +
                                  "' references token '" + text +
                                  "' that is not in the vocabulary");
    }
    return it->second;
  };
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& m = merges[rank];
    const size_t space = m.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == m.size() ||
        m.find(' ', space + 1) != std::string::npos) {
      throw std::invalid_argument("merge #" + std::to_string(rank) + " '" + m +
                                  "' is not two tokens separated by one space");
    }
    const std::string left = m.substr(0, space), right = m.substr(space + 1);
    const int32_t l = lookup(left, rank, m), r = lookup(right, rank, m);
    const int32_t result = lookup(left + right, rank, m);
    // A repeated pair keeps its first (highest-priority) rank, as HF's merge map does.
    merges_.emplace(pair_key(l, r), Merge{static_cast<int32_t>(rank), result});
  }
}

void BpeModel::encode(std::string_view bytes, std::vector<int32_t>* out) const {
  if (bytes.empty()) return;
  const std::string key(bytes);
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto it = cache_.find(key);
    if (it != cache_.end()) {
      out->insert(out->end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids;
  merge_word(bytes, &ids);
  out->insert(out->end(), ids.begin(), ids.end());
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() >= kCacheLimit) cache_.clear();
  cache_.emplace(key, std::move(ids));
}

void BpeModel::merge_word(std::string_view bytes, std::vector<int32_t>* out) const {
  // Symbols form a doubly linked list over the byte positions; a merged symbol keeps its
  // left position, so "leftmost" is the position of the left symbol, as in HF.
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
  };
  struct Candidate {
    int32_t rank;
    int32_t pos;  // left symbol
    int32_t left_id;
    int32_t right_id;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  const int32_t n = static_cast<int32_t>(bytes.size());
  std::vector<Symbol> sym(n);
  for (int32_t i = 0; i < n; ++i) {
    sym[i] = {byte_token_[static_cast<uint8_t>(bytes[i])], i - 1, i + 1 < n ? i + 1 : -1};
  }
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  const auto push_pair = [&](int32_t left) {
    if (left < 0) return;  // the first symbol has no left neighbour (prev == -1)
    const int32_t right = sym[left].next;
    if (right < 0 || sym[left].id < 0 || sym[right].id < 0) return;
    const auto it = merges_.find(pair_key(sym[left].id, sym[right].id));
    if (it != merges_.end()) {
      queue.push({it->second.rank, left, sym[left].id, sym[right].id});
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) push_pair(i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    // Stale entries: either side was merged away or changed since the pair was queued.
    const int32_t right = sym[c.pos].next;
    if (sym[c.pos].id != c.left_id || right < 0 || sym[right].id != c.right_id) continue;
    sym[c.pos].id = merges_.at(pair_key(c.left_id, c.right_id)).result;
    sym[c.pos].next = sym[right].next;
    if (sym[right].next >= 0) sym[sym[right].next].prev = c.pos;
    sym[right].id = -2;  // dead; never equals a queued id
    push_pair(sym[c.pos].prev);
    push_pair(c.pos);
  }
  for (int32_t i = n > 0 ? 0 : -1; i >= 0; i = sym[i].next) {
    if (sym[i].id >= 0) out->push_back(sym[i].id);
  }
}

}  // namespace ptune::tokenizer_detail
