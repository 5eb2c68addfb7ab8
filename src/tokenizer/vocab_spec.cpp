// VocabSpec::from_gguf lives alone so code that builds a VocabSpec by hand (tests, tools) does
// not pull in the GGUF reader.
#include <cstdint>
#include <string>

#include "ptune/io/gguf.h"
#include "ptune/tokenizer/tokenizer.h"

namespace ptune {

namespace {

int32_t token_id_or_none(const gguf::GgufFile& file, const char* key) {
  const int64_t id = file.get_int(key, -1);
  if (id < -1 || id > INT32_MAX) {
    throw gguf::GgufError(std::string("metadata ") + key + " = " + std::to_string(id) +
                          " is not a token id");
  }
  return static_cast<int32_t>(id);
}

}  // namespace

VocabSpec VocabSpec::from_gguf(const gguf::GgufFile& file) {
  VocabSpec spec;
  spec.model = file.get_string("tokenizer.ggml.model");
  spec.pre = file.get_string("tokenizer.ggml.pre", "default");
  spec.tokens = file.get_string_array("tokenizer.ggml.tokens");
  if (file.has("tokenizer.ggml.token_type")) {
    const std::vector<int64_t> types = file.get_int_array("tokenizer.ggml.token_type");
    if (types.size() != spec.tokens.size()) {
      throw gguf::GgufError("tokenizer.ggml.token_type has " + std::to_string(types.size()) +
                            " entries for " + std::to_string(spec.tokens.size()) + " tokens");
    }
    spec.token_types.reserve(types.size());
    for (int64_t t : types) {
      // Unknown codes are kept as Undefined: they only matter for special-token handling.
      spec.token_types.push_back(t >= 0 && t <= 6 ? static_cast<TokenType>(t)
                                                  : TokenType::Undefined);
    }
  }
  if (file.has("tokenizer.ggml.merges")) {
    spec.merges = file.get_string_array("tokenizer.ggml.merges");
  }
  spec.bos_id = token_id_or_none(file, "tokenizer.ggml.bos_token_id");
  spec.eos_id = token_id_or_none(file, "tokenizer.ggml.eos_token_id");
  spec.eot_id = token_id_or_none(file, "tokenizer.ggml.eot_token_id");
  spec.pad_id = token_id_or_none(file, "tokenizer.ggml.padding_token_id");
  spec.unk_id = token_id_or_none(file, "tokenizer.ggml.unknown_token_id");
  // Absent flags mean "do not add", which is what transformers does for a gpt2 vocabulary.
  spec.add_bos = file.get_bool("tokenizer.ggml.add_bos_token", false);
  spec.add_eos = file.get_bool("tokenizer.ggml.add_eos_token", false);
  spec.chat_template = file.get_string("tokenizer.chat_template", "");
  return spec;
}

}  // namespace ptune
