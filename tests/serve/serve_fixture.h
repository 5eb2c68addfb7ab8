// What the serving tests share: a tiny random model with a byte-level vocabulary and ChatML
// tokens (so text round-trips and the chat template applies), and random adapters of different
// lengths (keys/values before the prompt, as every tuned prompt is at the model).
#pragma once

#include <torch/torch.h>

#include <memory>

#include "ptune/model/model.h"
#include "ptune/tokenizer/tokenizer.h"
#include "test_model.h"
#include "tokenizer/tiny_vocab.h"

namespace ptune::test {

inline TinyLlama serve_model_spec() {
  TinyLlama spec;
  spec.n_vocab = 259;  // 256 bytes + <|im_start|>, <|im_end|>, <|endoftext|>
  return spec;
}

inline const Model& serve_model() {
  return tiny_model(serve_model_spec());
}

inline const Tokenizer& serve_tokenizer() {
  static const Tokenizer tok = [] {
    VocabSpec spec = byte_vocab({{"<|im_start|>", TokenType::Control},
                                 {"<|im_end|>", TokenType::Control},
                                 {"<|endoftext|>", TokenType::Control}});
    spec.chat_template =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
        "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    return Tokenizer(spec);
  }();
  return tok;
}

// Random keys/values for `n` virtual tokens, [1, Hkv, n, D] per layer, seeded.
inline std::shared_ptr<const PastKV> random_adapter(const Model& model, int64_t n, int seed) {
  torch::manual_seed(seed);
  const ModelConfig& c = model.config();
  auto past = std::make_shared<PastKV>();
  for (int64_t l = 0; l < c.n_layer; ++l) {
    past->keys.push_back(torch::randn({1, c.n_head_kv, n, c.head_dim}));
    past->values.push_back(torch::randn({1, c.n_head_kv, n, c.head_dim}));
  }
  return past;
}

}  // namespace ptune::test
