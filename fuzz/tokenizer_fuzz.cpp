// libFuzzer target for text encoding (every prompt, data row and, with `serve`, request text
// goes through it): the input bytes tokenized by the default model's vocabulary (SmolLM2's
// byte-level BPE, read once from $PTUNE_FUZZ_MODEL or models/SmolLM2-135M-Instruct.Q4_1.gguf;
// run.sh runs from the repository root). Nothing may throw: any bytes are text. Findings besides
// crashes and sanitizer reports: an id outside the vocabulary; plain encoding that does not
// decode back to the same bytes (byte-level BPE is lossless, except for the bytes the
// vocabulary has no token for, which are dropped as transformers drops them: SmolLM2 lacks 21);
// text marked as data (util::MarkedText) that encodes differently from plain text, i.e. a
// control token made from data; special-token parsing that decodes to other bytes.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ptune/io/gguf.h"
#include "ptune/tokenizer/tokenizer.h"
#include "ptune/util/marked_text.h"

namespace {

const ptune::Tokenizer& tokenizer() {
  static const std::unique_ptr<ptune::Tokenizer> tok = [] {
    const char* env = std::getenv("PTUNE_FUZZ_MODEL");
    const std::string path = env ? env : "models/SmolLM2-135M-Instruct.Q4_1.gguf";
    try {
      const ptune::gguf::GgufFile f = ptune::gguf::GgufFile::open(path);
      return std::make_unique<ptune::Tokenizer>(ptune::Tokenizer::from_gguf(f));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tokenizer_fuzz: cannot read the vocabulary of %s: %s\n", path.c_str(),
                   e.what());
      std::exit(2);
    }
  }();
  return *tok;
}

// Bytes whose single-byte token the vocabulary lacks (encode drops them).
const std::array<bool, 256>& dropped_bytes() {
  static const std::array<bool, 256> dropped = [] {
    std::array<bool, 256> d{};
    for (int b = 0; b < 256; ++b)
      d[b] = tokenizer().encode(std::string(1, static_cast<char>(b)), false, false).empty();
    return d;
  }();
  return dropped;
}

// `text` without the bytes the vocabulary cannot encode: what a plain encoding decodes to.
std::string representable(const std::string& text) {
  std::string out;
  for (char c : text)
    if (!dropped_bytes()[static_cast<uint8_t>(c)]) out += c;
  return out;
}

void check_ids(const std::vector<int32_t>& ids, const ptune::Tokenizer& tok) {
  for (int32_t id : ids)
    if (id < 0 || id >= tok.n_vocab()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  dropped_bytes();  // load the vocabulary once, outside the timed runs
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ptune::Tokenizer& tok = tokenizer();
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::vector<int32_t> plain = tok.encode(text, /*add_special=*/false,
                                                /*parse_special=*/false);
  check_ids(plain, tok);
  const std::string kept = representable(text);
  if (tok.decode(plain) != kept) std::abort();
  const ptune::util::MarkedText as_data = ptune::util::MarkedText::literal_text(text);
  if (tok.encode(as_data, /*add_special=*/false) != plain) std::abort();
  const std::vector<int32_t> special = tok.encode(text, /*add_special=*/true,
                                                  /*parse_special=*/true);
  check_ids(special, tok);
  if (tok.decode(special, /*skip_special=*/false).find(kept) == std::string::npos) std::abort();
  return 0;
}
