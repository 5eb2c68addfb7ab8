#include "ptune/tokenizer/pre_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace ptune {
namespace {

// GPT-2's pattern as HF's ByteLevel(use_regex=True) spells it. The final `\s+` only names the
// whitespace `\s+(?!\S)` leaves behind; gaps are kept anyway, so it changes no piece.
constexpr const char* kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// SmolLM2's tokenizer.json runs Digits(individual_digits=True) before ByteLevel; llama.cpp's
// "smollm" entry is the same two steps.
constexpr const char* kDigit = R"(\p{N})";
// Llama 3 (llama.cpp "llama-bpe"), from its tokenizer.json.
constexpr const char* kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3})"
    R"(| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Qwen2, from transformers' tokenization_qwen2.PRETOKENIZE_REGEX.
constexpr const char* kQwen2 = R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N})"
                               R"(| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// "default" follows transformers, which gives a gpt2 vocabulary without a known pre name the
// plain GPT-2 pattern (llama.cpp's "default" adds punctuation and digit-group splits instead).
const std::map<std::string, std::vector<const char*>, std::less<>>& registry() {
  static const std::map<std::string, std::vector<const char*>, std::less<>> table = {
      {"default", {kGpt2}},        {"gpt2", {kGpt2}},
      {"smollm", {kDigit, kGpt2}}, {"llama3", {kLlama3}},
      {"llama-bpe", {kLlama3}},    {"llama-v3", {kLlama3}},
      {"qwen2", {kQwen2}},         {"deepseek-r1-qwen", {kQwen2}},
  };
  return table;
}

struct CodeDeleter {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
struct MatchDataDeleter {
  void operator()(pcre2_match_data* m) const { pcre2_match_data_free(m); }
};

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof(buf));
  return reinterpret_cast<const char*>(buf);
}

struct Regex {
  std::unique_ptr<pcre2_code, CodeDeleter> code;

  explicit Regex(const char* pattern) {
    int err = 0;
    PCRE2_SIZE err_off = 0;
    // MATCH_INVALID_UTF: arbitrary bytes are legal input; malformed sequences just never match.
    const uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF;
    code.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED, opts,
                             &err, &err_off, nullptr));
    if (!code) {
      throw std::logic_error("pre-tokenizer regex does not compile at offset " +
                             std::to_string(err_off) + ": " + pcre2_message(err));
    }
    // JIT is an optimisation only: without it (or when it fails) the interpreter runs.
    pcre2_jit_compile(code.get(), PCRE2_JIT_COMPLETE);
  }

  // Appends the matches of this regex in `piece` and the gaps between them to `out`.
  void split(std::string_view piece, pcre2_match_data* md,
             std::vector<std::string_view>* out) const {
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
    size_t start = 0;  // where the next gap begins
    size_t pos = 0;
    while (pos < piece.size()) {
      const int rc = pcre2_match(code.get(), subject, piece.size(), pos, 0, md, nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) break;
      if (rc < 0) throw std::runtime_error("pre-tokenizer regex failed: " + pcre2_message(rc));
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
      const size_t m_begin = ov[0], m_end = ov[1];
      if (m_end == m_begin) {  // none of our patterns can match empty; guard against a loop
        pos = m_end + 1;
        continue;
      }
      if (m_begin > start) out->push_back(piece.substr(start, m_begin - start));
      out->push_back(piece.substr(m_begin, m_end - m_begin));
      start = pos = m_end;
    }
    if (start < piece.size()) out->push_back(piece.substr(start));
  }
};

}  // namespace

struct PreTokenizer::Impl {
  std::vector<Regex> steps;
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> make_match_data() const {
    // Sized for the largest pattern; one per split() call keeps split() thread-safe.
    return std::unique_ptr<pcre2_match_data, MatchDataDeleter>(pcre2_match_data_create(8, nullptr));
  }
};

PreTokenizer::PreTokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PreTokenizer::~PreTokenizer() = default;
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;

std::vector<std::string> PreTokenizer::supported() {
  std::vector<std::string> names;
  for (const auto& [name, steps] : registry()) names.push_back(name);
  return names;
}

PreTokenizer PreTokenizer::create(std::string_view name) {
  const auto it = registry().find(name);
  if (it == registry().end()) {
    std::string msg =
        "unsupported pre-tokenizer '" + std::string(name) + "' (tokenizer.ggml.pre); supported:";
    for (const auto& n : supported()) msg += " " + n;
    throw std::invalid_argument(msg);
  }
  auto impl = std::make_unique<Impl>();
  for (const char* pattern : it->second) impl->steps.emplace_back(pattern);
  return PreTokenizer(std::move(impl));
}

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
  std::vector<std::string_view> pieces;
  if (text.empty()) return pieces;
  auto md = impl_->make_match_data();
  pieces.push_back(text);
  std::vector<std::string_view> next;
  for (const Regex& step : impl_->steps) {
    next.clear();
    for (std::string_view piece : pieces) step.split(piece, md.get(), &next);
    pieces.swap(next);
  }
  return pieces;
}

}  // namespace ptune
