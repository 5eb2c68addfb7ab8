// Byte-level BPE tokenizer (GPT-2 family) built from GGUF `tokenizer.ggml.*` metadata.
//
// encode(): special-token text (control / user-defined tokens such as "<|im_start|>") is
// matched first when parse_special is set; the remaining text is split by the pre-tokenizer
// named in `tokenizer.ggml.pre`, each piece is mapped to GPT-2 byte-level unicode and merged by
// BPE rank. Output equals the Hugging Face tokenizer for the same model.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ptune/util/marked_text.h"

namespace ptune {

namespace gguf {
class GgufFile;
}

// Token types as GGUF stores them (tokenizer.ggml.token_type).
enum class TokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

// Everything the tokenizer needs, independent of where it came from.
struct VocabSpec {
  std::string model = "gpt2";   // tokenizer.ggml.model
  std::string pre = "default";  // tokenizer.ggml.pre
  std::vector<std::string> tokens;
  std::vector<TokenType> token_types;  // empty = all Normal
  std::vector<std::string> merges;     // "a b" pairs, highest priority first
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  int32_t eot_id = -1;
  int32_t pad_id = -1;
  int32_t unk_id = -1;
  bool add_bos = false;
  bool add_eos = false;
  std::string chat_template;  // tokenizer.chat_template, may be empty

  // Reads tokenizer.ggml.* and tokenizer.chat_template; throws gguf::GgufError on bad metadata.
  static VocabSpec from_gguf(const gguf::GgufFile& file);
};

class Tokenizer {
 public:
  explicit Tokenizer(VocabSpec spec);  // throws std::invalid_argument on unsupported model/pre
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  static Tokenizer from_gguf(const gguf::GgufFile& file) {
    return Tokenizer(VocabSpec::from_gguf(file));
  }

  // add_special: prepend BOS / append EOS as the spec says.
  // parse_special: recognise the text of control/user-defined tokens as those tokens.
  std::vector<int32_t> encode(std::string_view text, bool add_special = true,
                              bool parse_special = true) const;
  // A prompt: control tokens are recognised in its author text only, never inside its literal
  // spans (data rows, user messages), which are encoded as plain text.
  std::vector<int32_t> encode(const util::MarkedText& prompt, bool add_special = true) const;
  // skip_special drops control tokens (BOS/EOS/<|im_start|> ...) from the text.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;
  // Raw bytes of one token (may be a partial UTF-8 sequence); control tokens give their text.
  std::string token_to_bytes(int32_t id) const;

  int32_t n_vocab() const;
  const std::string& token_text(int32_t id) const;  // as stored in the vocabulary
  TokenType token_type(int32_t id) const;
  int32_t token_id(std::string_view text) const;  // -1 when absent
  const VocabSpec& spec() const;
  // True for tokens that end a generation: EOS, EOT, and <|im_end|>/<|endoftext|> when present.
  bool is_end_of_generation(int32_t id) const;

 private:
  std::vector<int32_t> encode_with(std::string_view text, bool add_special, bool parse_special,
                                   const std::vector<util::TextSpan>& literal) const;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ptune
