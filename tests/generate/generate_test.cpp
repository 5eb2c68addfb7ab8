// Sampling, streaming text with stop strings, and ChatML formatting.
#include <gtest/gtest.h>

#include "ptune/generate/chat_template.h"
#include "ptune/generate/generator.h"
#include "ptune/generate/sampler.h"
#include "test_model.h"
#include "tokenizer/tiny_vocab.h"

namespace ptune {
namespace {

torch::Tensor logits_of(std::vector<float> v) {
  return torch::tensor(v);
}

// NaN logits (an adapter's NaN keys/values) stop generation with an error instead of emitting
// token 0 for ever.
TEST(GenerateTest, NonFiniteLogitsAreAnError) {
  const Model& model = test::tiny_model();
  const Tokenizer tok(test::byte_vocab());
  const ModelConfig& c = model.config();
  PastKV nan_past;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    nan_past.keys.push_back(torch::full({1, c.n_head_kv, 2, c.head_dim}, NAN));
    nan_past.values.push_back(torch::full({1, c.n_head_kv, 2, c.head_dim}, NAN));
  }
  GenerateOptions o;
  o.max_tokens = 3;
  EXPECT_NO_THROW(generate(model, tok, {1, 2, 3}, o));
  try {
    generate(model, tok, {1, 2, 3}, o, nullptr, &nan_past);
    FAIL() << "generated from NaN logits";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("NaN or Inf"), std::string::npos) << e.what();
  }
}

TEST(SamplerTest, GreedyTakesTheArgmax) {
  Sampler s({});
  EXPECT_EQ(s.sample(logits_of({0.1f, 2.0f, -1.0f, 1.9f})), 1);
}

TEST(SamplerTest, TopKOfOneIsGreedyAtAnyTemperature) {
  SamplingParams p;
  p.temperature = 5.0f;
  p.top_k = 1;
  Sampler s(p);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s.sample(logits_of({0.1f, 2.0f, -1.0f, 1.9f})), 1);
}

TEST(SamplerTest, TinyTopPKeepsOnlyTheBestToken) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_p = 0.01f;
  Sampler s(p);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s.sample(logits_of({0.1f, 2.0f, -1.0f, 1.9f})), 1);
}

TEST(SamplerTest, SameSeedSameSamplesAndFrequenciesFollowSoftmax) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 42;
  Sampler a(p), b(p);
  auto l = logits_of({0.0f, std::log(3.0f)});  // probabilities 1/4, 3/4
  int ones = 0;
  for (int i = 0; i < 4000; ++i) {
    int32_t x = a.sample(l);
    EXPECT_EQ(x, b.sample(l));
    ones += x;
  }
  EXPECT_NEAR(ones / 4000.0, 0.75, 0.03);
}

TEST(SamplerTest, RejectsBadParameters) {
  SamplingParams p;
  p.top_p = 0.0f;
  EXPECT_THROW(Sampler{p}, std::invalid_argument);
  p = {};
  p.temperature = -1.0f;
  EXPECT_THROW(Sampler{p}, std::invalid_argument);
}

TEST(StreamingTextTest, HoldsBackPartialUtf8) {
  StreamingText s({});
  EXPECT_EQ(s.push("caf"), "caf");
  EXPECT_EQ(s.push("\xC3"), "");  // first byte of é
  EXPECT_EQ(s.push("\xA9!"), "\xC3\xA9!");
  EXPECT_EQ(s.flush(), "");
  EXPECT_EQ(s.text(), "caf\xC3\xA9!");
}

TEST(StreamingTextTest, StopStringSpanningPiecesIsCutAndNeverEmitted) {
  StreamingText s({"\nUser:"});
  std::string out;
  for (const char* piece : {"Sure", ", here", ".\nUs", "er: more"}) out += s.push(piece);
  out += s.flush();
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(out, "Sure, here.");
  EXPECT_EQ(s.text(), "Sure, here.");
}

TEST(StreamingTextTest, HeldPrefixIsReleasedWhenItDoesNotBecomeAStop) {
  StreamingText s({"###"});
  EXPECT_EQ(s.push("a #"), "a ");
  EXPECT_EQ(s.push("#b"), "##b");
  EXPECT_FALSE(s.stopped());
}

const char* kSmolTemplate =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ "
    "'<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|im_start|>assistant\n' }}{% endif %}";

TEST(ChatTemplateTest, ChatMLWithTheTemplatesDefaultSystemMessage) {
  ChatTemplate t(kSmolTemplate);
  EXPECT_EQ(t.render({{"user", "Hi"}}, true),
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
            "Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(t.render({{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello"}}, false),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\nHello<|im_end|>\n");
}

TEST(ChatTemplateTest, RejectsNonChatMLTemplates) {
  EXPECT_THROW(ChatTemplate(""), std::invalid_argument);
  EXPECT_THROW(ChatTemplate("{{ bos_token }}[INST] {{ message }} [/INST]"), std::invalid_argument);
}

}  // namespace
}  // namespace ptune
