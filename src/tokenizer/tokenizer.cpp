#include "ptune/tokenizer/tokenizer.h"

#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "ptune/tokenizer/pre_tokenizer.h"
#include "tokenizer/bpe.h"
#include "tokenizer/byte_unicode.h"
#include "tokenizer/special_tokens.h"

namespace ptune {

using tokenizer_detail::BpeModel;
using tokenizer_detail::SpecialTokenMatcher;

namespace {

// Token text as byte-level BPE sees it. Vocabularies store tokens already in the byte alphabet;
// one that is not (some converters write added tokens verbatim) is re-spelled from its UTF-8
// bytes, the way transformers' GGUF loader does.
std::string byte_level_spelling(const std::string& text) {
  std::string bytes;
  if (tokenizer_detail::unicode_to_bytes(text, &bytes)) return text;
  std::string spelled;
  for (unsigned char c : text) spelled += tokenizer_detail::byte_to_unicode(c);
  return spelled;
}

// Raw bytes a token stands for. Added tokens (control, user-defined) are plain text.
std::string token_bytes(const std::string& text, TokenType type) {
  if (type == TokenType::Control || type == TokenType::UserDefined) return text;
  std::string bytes;
  if (tokenizer_detail::unicode_to_bytes(text, &bytes)) return bytes;
  return text;
}

void check_spec(const VocabSpec& spec) {
  if (spec.model != "gpt2") {
    throw std::invalid_argument("unsupported tokenizer model '" + spec.model +
                                "' (tokenizer.ggml.model); supported: gpt2 (byte-level BPE)");
  }
  if (spec.tokens.empty()) throw std::invalid_argument("tokenizer vocabulary is empty");
  if (!spec.token_types.empty() && spec.token_types.size() != spec.tokens.size()) {
    throw std::invalid_argument("tokenizer has " + std::to_string(spec.token_types.size()) +
                                " token types for " + std::to_string(spec.tokens.size()) +
                                " tokens");
  }
  const auto n = static_cast<int64_t>(spec.tokens.size());
  const std::pair<const char*, int32_t> ids[] = {{"bos", spec.bos_id},
                                                 {"eos", spec.eos_id},
                                                 {"eot", spec.eot_id},
                                                 {"padding", spec.pad_id},
                                                 {"unknown", spec.unk_id}};
  for (const auto& [name, id] : ids) {
    if (id < -1 || id >= n) {
      throw std::invalid_argument(std::string(name) + " token id " + std::to_string(id) +
                                  " is outside the vocabulary of " + std::to_string(n));
    }
  }
  if (spec.add_bos && spec.bos_id < 0) {
    throw std::invalid_argument("add_bos is set but the vocabulary has no bos token id");
  }
  if (spec.add_eos && spec.eos_id < 0) {
    throw std::invalid_argument("add_eos is set but the vocabulary has no eos token id");
  }
}

}  // namespace

struct Tokenizer::Impl {
  VocabSpec spec;
  PreTokenizer pre;
  BpeModel bpe;
  SpecialTokenMatcher specials;
  std::unordered_map<std::string, int32_t> ids_by_text;
  std::vector<std::string> bytes_by_id;
  std::unordered_set<int32_t> end_of_generation;

  Impl(VocabSpec s, PreTokenizer p, const std::unordered_map<std::string, int32_t>& byte_vocab)
      : spec(std::move(s)), pre(std::move(p)), bpe(byte_vocab, spec.merges) {}

  TokenType type(int32_t id) const {
    return spec.token_types.empty() ? TokenType::Normal : spec.token_types[id];
  }
};

Tokenizer::Tokenizer(VocabSpec spec) {
  check_spec(spec);
  PreTokenizer pre = PreTokenizer::create(spec.pre);
  std::unordered_map<std::string, int32_t> byte_vocab;
  byte_vocab.reserve(spec.tokens.size());
  for (size_t i = 0; i < spec.tokens.size(); ++i) {
    byte_vocab.emplace(byte_level_spelling(spec.tokens[i]), static_cast<int32_t>(i));
  }
  impl_ = std::make_unique<Impl>(std::move(spec), std::move(pre), byte_vocab);
  Impl& im = *impl_;

  const auto n = static_cast<int32_t>(im.spec.tokens.size());
  im.ids_by_text.reserve(n);
  im.bytes_by_id.reserve(n);
  for (int32_t id = 0; id < n; ++id) {
    const std::string& text = im.spec.tokens[id];
    const TokenType type = im.type(id);
    im.ids_by_text.emplace(text, id);  // first occurrence wins on duplicates
    im.bytes_by_id.push_back(token_bytes(text, type));
    if (type == TokenType::Control || type == TokenType::UserDefined) {
      im.specials.add(text, id, type == TokenType::Control);
    }
  }
  for (int32_t id : {im.spec.eos_id, im.spec.eot_id}) {
    if (id >= 0) im.end_of_generation.insert(id);
  }
  // Chat models end a turn with these even when the metadata names another EOS.
  for (const char* text : {"<|im_end|>", "<|endoftext|>"}) {
    const auto it = im.ids_by_text.find(text);
    if (it != im.ids_by_text.end()) im.end_of_generation.insert(it->second);
  }
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int32_t> Tokenizer::encode_with(std::string_view text, bool add_special,
                                            bool parse_special,
                                            const std::vector<util::TextSpan>& literal) const {
  const Impl& im = *impl_;
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 2);
  if (add_special && im.spec.add_bos) ids.push_back(im.spec.bos_id);
  for (const auto& seg : im.specials.split(text, parse_special, literal)) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    for (std::string_view piece : im.pre.split(seg.text)) im.bpe.encode(piece, &ids);
  }
  if (add_special && im.spec.add_eos) ids.push_back(im.spec.eos_id);
  return ids;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  return encode_with(text, add_special, parse_special, {});
}

std::vector<int32_t> Tokenizer::encode(const util::MarkedText& prompt, bool add_special) const {
  return encode_with(prompt.text, add_special, /*parse_special=*/true, prompt.literal);
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::string out;
  for (int32_t id : ids) {
    const TokenType type = token_type(id);  // also the range check
    if (skip_special && type == TokenType::Control) continue;
    out += impl_->bytes_by_id[id];
  }
  return out;
}

std::string Tokenizer::token_to_bytes(int32_t id) const {
  token_type(id);  // range check
  return impl_->bytes_by_id[id];
}

int32_t Tokenizer::n_vocab() const {
  return static_cast<int32_t>(impl_->spec.tokens.size());
}

const std::string& Tokenizer::token_text(int32_t id) const {
  token_type(id);  // range check
  return impl_->spec.tokens[id];
}

TokenType Tokenizer::token_type(int32_t id) const {
  if (id < 0 || id >= n_vocab()) {
    throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary of " +
                            std::to_string(n_vocab()));
  }
  return impl_->type(id);
}

int32_t Tokenizer::token_id(std::string_view text) const {
  const auto it = impl_->ids_by_text.find(std::string(text));
  return it == impl_->ids_by_text.end() ? -1 : it->second;
}

const VocabSpec& Tokenizer::spec() const {
  return impl_->spec;
}

bool Tokenizer::is_end_of_generation(int32_t id) const {
  return impl_->end_of_generation.count(id) != 0;
}

}  // namespace ptune
