// Byte-level BPE over one pre-token: bytes -> base tokens -> repeated merges by rank.
//
// The merge loop follows HF tokenizers' BPE::merge_word: always apply the pair with the lowest
// rank, the leftmost one on ties, until no adjacent pair has a merge. Results are cached per
// pre-token, since real text repeats the same words constantly.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ptune::tokenizer_detail {

class BpeModel {
 public:
  // `byte_level_vocab` maps the byte-level spelling of each token to its id; `merges` are
  // "left right" in priority order. Throws std::invalid_argument naming the first bad merge.
  BpeModel(const std::unordered_map<std::string, int32_t>& byte_level_vocab,
           const std::vector<std::string>& merges);

  // Appends the ids for the raw bytes of one pre-token. A byte whose single-byte token is
  // missing from the vocabulary is dropped, as HF's BPE does without an unk token (SmolLM2
  // lacks 21 of the 256, e.g. 0x04 and 0x1D; its GGUF names an unknown id, but transformers
  // builds the model without one, and mapping a stray control byte to <|endoftext|> would be
  // worse than losing it).
  void encode(std::string_view bytes, std::vector<int32_t>* out) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  void merge_word(std::string_view bytes, std::vector<int32_t>* out) const;

  std::array<int32_t, 256> byte_token_{};  // -1 where the vocabulary lacks the byte
  std::unordered_map<uint64_t, Merge> merges_;

  // Pre-token -> ids. Bounded: cleared when full, which keeps memory flat on adversarial input.
  static constexpr size_t kCacheLimit = 1 << 16;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace ptune::tokenizer_detail
