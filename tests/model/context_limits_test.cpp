// Inputs longer than the model's context are refused before any allocation (the forward and
// generation say how many tokens and what the limit is; the scorer's check is in
// tests/eval/scorer_test.cpp), generation stops at the context's end, and long inputs run their
// attention in query chunks equal to the one-piece result (memory bounded by the chunk, not by T x
// S). Token ids outside the vocabulary are named.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>

#include "model/blocks.h"
#include "ptune/generate/generator.h"
#include "test_model.h"
#include "tokenizer/tiny_vocab.h"

namespace ptune {
namespace {

// test::tiny_model() says context_length 256.
constexpr int64_t kContext = 256;

std::vector<int32_t> ids(int64_t n) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<int32_t>(1 + i % 60);
  return v;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(ContextLimits, ForwardRefusesMoreThanTheContext) {
  const Model& m = test::tiny_model();
  ASSERT_EQ(m.config().n_ctx_train, kContext);
  ForwardArgs a;
  a.input_ids = torch::ones({1, kContext}, torch::kInt64);
  a.logits_at = LogitsAt::Last;
  EXPECT_NO_THROW(m.forward(a));
  a.input_ids = torch::ones({1, kContext + 1}, torch::kInt64);
  const std::string e = error_of([&] { m.forward(a); });
  EXPECT_NE(e.find("257 tokens"), std::string::npos) << e;
  EXPECT_NE(e.find("context length of 256"), std::string::npos) << e;
}

// A token id the embedding has no row for (a tokenizer larger than the model's vocabulary, or a
// user's id list) is named with the vocabulary size, not libtorch's "index out of range in self".
TEST(ContextLimits, TokenIdsOutsideTheVocabularyAreNamed) {
  const Model& m = test::tiny_model();
  const int64_t n_vocab = m.config().n_vocab;
  for (int64_t bad : {n_vocab, int64_t{-1}}) {
    ForwardArgs a;
    a.input_ids = torch::tensor({int64_t{1}, int64_t{2}, bad}, torch::kInt64).view({1, 3});
    a.logits_at = LogitsAt::Last;
    std::string e;
    try {
      m.forward(a);
    } catch (const std::out_of_range& x) {
      e = x.what();
    }
    EXPECT_NE(e.find("token id " + std::to_string(bad) + " is outside"), std::string::npos) << e;
    EXPECT_NE(e.find(std::to_string(n_vocab) + " rows"), std::string::npos) << e;
  }
}

TEST(ContextLimits, GenerationStopsAtTheContextAndRefusesAFullPrompt) {
  const Model& m = test::tiny_model();
  const Tokenizer tok(test::byte_vocab());
  GenerateOptions o;
  o.max_tokens = 20;
  o.stop_at_end_of_generation = false;
  const GenerateResult r = generate(m, tok, ids(kContext - 5), o);
  EXPECT_EQ(r.tokens.size(), 5u);  // prompt + generated = the context
  EXPECT_EQ(r.finish_reason, "length");
  const std::string e = error_of([&] { generate(m, tok, ids(kContext), o); });
  EXPECT_NE(e.find("no room"), std::string::npos) << e;
}

TEST(ContextLimits, ChunkedAttentionEqualsOnePiece) {
  // B * H * S * T = 4 * 4200^2 > 2^26 floats: attend() runs two query chunks.
  torch::manual_seed(0);
  const int64_t H = 4, Hkv = 2, T = 4200, D = 8;
  const torch::Tensor q = torch::randn({1, H, T, D}), k = torch::randn({1, Hkv, T, D}),
                      v = torch::randn({1, Hkv, T, D});
  const torch::Tensor mask = torch::ones({1, T}, torch::kInt64);
  const torch::Tensor bias = blocks::attention_bias(mask, 0, T, q.options());
  const torch::Tensor got = blocks::attend(q, k, v, bias, 1.0 / std::sqrt(double(D)));
  // Reference: each query head against its KV head, in one piece.
  const torch::Tensor kk = k.repeat_interleave(H / Hkv, 1), vv = v.repeat_interleave(H / Hkv, 1);
  const torch::Tensor probs =
      torch::softmax(torch::matmul(q, kk.transpose(2, 3)) / std::sqrt(double(D)) + bias, -1);
  const torch::Tensor want = torch::matmul(probs, vv).transpose(1, 2).reshape({1, T, H * D});
  EXPECT_LT((got - want).abs().max().item<float>(), 1e-5);
}

}  // namespace
}  // namespace ptune
