// The trainable prompts (include/ptune/methods/trainable.h) on the tiny random llama: output
// shapes, parameter counts equal to PEFT's encoders, seeded initialisation, dropout only in
// training, and gradients reaching every parameter through the frozen model. Saved artifacts
// are in trainable_artifact_test.cpp; the shared fixture and the tiny model's sizes in
// trainable_fixture.h.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/tiny_vocab.h"
#include "trainable_fixture.h"

namespace ptune::methods {
namespace {

// --- P-tuning's PromptEncoder ----------------------------------------------------------------

TEST_F(TrainableTest, PromptEncoderMlpShapeAndPeftParameterCount) {
  const int64_t N = 5, C = cfg().n_embd;
  for (int64_t hidden : {int64_t{0}, int64_t{24}}) {
    PTuningConfig c;
    c.virtual_tokens = N;
    c.encoder = "mlp";
    c.hidden_size = hidden;
    PromptEncoder enc(c, model(), 1);
    // A soft prompt: its keys/values are those its output gives as input embeddings.
    EXPECT_LT(max_diff(enc.state(model(), false), soft_prompt_state(model(), enc.output(false))),
              1e-6);
    EXPECT_EQ(enc.output(false).sizes(), (std::vector<int64_t>{N, C}));
    const int64_t H = hidden > 0 ? hidden : C;
    // PEFT: Embedding(N, C), Linear(C, H), Linear(H, H), Linear(H, C), all with biases.
    const int64_t expected = N * C + (C * H + H) + (H * H + H) + (H * C + C);
    EXPECT_EQ(count(enc.parameters()), expected) << "hidden " << hidden;
    for (const torch::Tensor& p : enc.parameters()) {
      EXPECT_TRUE(p.requires_grad());
      EXPECT_EQ(p.scalar_type(), torch::kFloat32);
    }
  }
}

TEST_F(TrainableTest, PromptEncoderLstmShapeAndPeftParameterCount) {
  const int64_t N = 4, C = cfg().n_embd;
  for (int64_t layers : {int64_t{1}, int64_t{2}}) {
    for (int64_t hidden : {int64_t{0}, int64_t{12}}) {
      PTuningConfig c;
      c.virtual_tokens = N;
      c.encoder = "lstm";
      c.hidden_size = hidden;
      c.lstm_layers = layers;
      PromptEncoder enc(c, model(), 3);
      EXPECT_EQ(enc.output(false).sizes(), (std::vector<int64_t>{N, C}));
      const int64_t H = hidden > 0 ? hidden : C;
      int64_t expected = N * C;
      for (int64_t l = 0; l < layers; ++l) {
        const int64_t in = l == 0 ? C : 2 * H;
        expected += 2 * (4 * H * (in + H) + 8 * H);  // two directions: W_ih, W_hh, b_ih, b_hh
      }
      expected += (2 * H * 2 * H + 2 * H) + (2 * H * C + C);  // Linear(2H, 2H), Linear(2H, C)
      EXPECT_EQ(count(enc.parameters()), expected) << "layers " << layers << " hidden " << hidden;
    }
  }
}

TEST_F(TrainableTest, PromptEncoderIsSeeded) {
  for (const char* type : {"mlp", "lstm"}) {
    PTuningConfig c;
    c.virtual_tokens = 3;
    c.encoder = type;
    const torch::Tensor a = PromptEncoder(c, model(), 11).output(false);
    const torch::Tensor b = PromptEncoder(c, model(), 11).output(false);
    const torch::Tensor other = PromptEncoder(c, model(), 12).output(false);
    EXPECT_TRUE(torch::equal(a, b));
    EXPECT_GT(max_diff(a, other), 1e-4);
  }
}

TEST_F(TrainableTest, PromptEncoderLstmDropoutOnlyWhenTraining) {
  PTuningConfig c;
  c.virtual_tokens = 6;
  c.encoder = "lstm";
  c.lstm_layers = 2;
  c.dropout = 0.5;
  PromptEncoder enc(c, model(), 5);
  torch::manual_seed(0);
  const torch::Tensor eval1 = enc.output(false).detach();
  const torch::Tensor train = enc.output(true).detach();
  const torch::Tensor eval2 = enc.output(false).detach();
  EXPECT_GT(max_diff(train, eval1), 1e-4);
  EXPECT_TRUE(torch::equal(eval1, eval2));
}

TEST_F(TrainableTest, PromptEncoderRejectsBadSizes) {
  PTuningConfig c;
  c.virtual_tokens = 0;
  EXPECT_THROW(PromptEncoder(c, model(), 1), std::invalid_argument);
  c = PTuningConfig{};
  c.hidden_size = -1;
  EXPECT_THROW(PromptEncoder(c, model(), 1), std::invalid_argument);
  c = PTuningConfig{};
  c.dropout = 1.0;
  EXPECT_THROW(PromptEncoder(c, model(), 1), std::invalid_argument);
  c = PTuningConfig{};
  c.encoder = "lstm";
  c.lstm_layers = 0;
  EXPECT_THROW(PromptEncoder(c, model(), 1), std::invalid_argument);
}

// --- PrefixEncoder ---------------------------------------------------------------------------

TEST_F(TrainableTest, PrefixEncoderStartsFromTheModelsKeysAndValues) {
  const int64_t N = 5;
  const uint64_t seed = 9;
  PrefixTuningConfig c;
  c.virtual_tokens = N;
  PrefixEncoder enc(c, model(), seed);
  const torch::Tensor out = enc.output(false);
  // A prefix: its keys/values are its output, laid out per layer.
  EXPECT_EQ(max_diff(enc.state(model(), false), as_past(out)), 0.0);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{N, prefix_width()}));
  ASSERT_EQ(enc.parameters().size(), 1u);
  EXPECT_EQ(enc.parameters()[0].sizes(), out.sizes());
  EXPECT_TRUE(enc.parameters()[0].requires_grad());

  // The rows the constructor samples, drawn the same way.
  torch::manual_seed(static_cast<int64_t>(seed));
  const torch::Tensor rows = torch::randint(0, cfg().n_vocab, {N}, torch::kInt64);
  const PastKV want = soft_prompt_state(model(), model().token_embedding().index_select(0, rows));
  EXPECT_LT(max_diff(as_past(out.detach()), want), 1e-5);

  // Another seed samples other tokens.
  const torch::Tensor other = PrefixEncoder(c, model(), seed + 1).output(false);
  EXPECT_GT(max_diff(out, other), 1e-4);
}

TEST_F(TrainableTest, PrefixEncoderProjectionParameters) {
  const int64_t N = 3, kv = kv_dim();
  for (int64_t hidden : {int64_t{0}, int64_t{24}}) {
    PrefixTuningConfig c;
    c.virtual_tokens = N;
    c.projection = true;
    c.hidden_size = hidden;
    PrefixEncoder enc(c, model(), 2);
    const int64_t H = hidden > 0 ? hidden : kv;
    EXPECT_EQ(enc.output(false).sizes(), (std::vector<int64_t>{N, prefix_width()}));
    const std::vector<torch::Tensor> ps = enc.parameters();
    // Embedding(N, Hkv*D), Linear(Hkv*D, H), Linear(H, L*2*Hkv*D).
    const std::vector<std::vector<int64_t>> shapes = {
        {N, kv}, {H, kv}, {H}, {prefix_width(), H}, {prefix_width()}};
    ASSERT_EQ(ps.size(), shapes.size()) << "hidden " << hidden;
    for (size_t i = 0; i < ps.size(); ++i) {
      EXPECT_EQ(ps[i].sizes(), shapes[i]) << "parameter " << i << " hidden " << hidden;
      EXPECT_TRUE(ps[i].requires_grad());
    }
  }
}

TEST_F(TrainableTest, PrefixEncoderProjectionStartsAtTheRealActivationPrefix) {
  // The last layer is solved so that the encoder's first output is the plain method's prefix:
  // exact while N <= H + 1 (here 5 <= 17), a least-squares fit beyond.
  PrefixTuningConfig plain;
  plain.virtual_tokens = 5;
  PrefixTuningConfig projected = plain;
  projected.projection = true;
  const torch::Tensor want = PrefixEncoder(plain, model(), 4).output(false);
  const torch::Tensor got = PrefixEncoder(projected, model(), 4).output(false);
  EXPECT_LT(max_diff(got, want), 1e-3 * (1 + want.abs().max().item<double>()));
  projected.virtual_tokens = plain.virtual_tokens = 40;  // more tokens than H + 1: only a fit
  const torch::Tensor fit = PrefixEncoder(projected, model(), 4).output(false);
  const torch::Tensor target = PrefixEncoder(plain, model(), 4).output(false);
  EXPECT_LT((fit - target).norm().item<double>(), target.norm().item<double>());
}

TEST_F(TrainableTest, PrefixEncoderRejectsBadSizes) {
  PrefixTuningConfig c;
  c.virtual_tokens = 0;
  EXPECT_THROW(PrefixEncoder(c, model(), 1), std::invalid_argument);
  c = PrefixTuningConfig{};
  c.projection = true;
  c.hidden_size = -2;
  EXPECT_THROW(PrefixEncoder(c, model(), 1), std::invalid_argument);
}

// --- PromptEmbedding (byte-level tokenizer: ids are the bytes, all < V for '!'..'0') ---------

TEST_F(TrainableTest, PromptEmbeddingInits) {
  const Tokenizer tok(test::byte_vocab());
  const torch::Tensor& table = model().token_embedding();
  PromptTuningConfig c;
  c.virtual_tokens = 5;
  c.init = "text";
  c.init_text = "0!";  // bytes 48, 33, repeated to N
  PromptEmbedding text(c, model(), tok, 1);
  EXPECT_TRUE(torch::equal(text.output(false).detach(),
                           table.index_select(0, torch::tensor({48, 33, 48, 33, 48}))));
  c.init_text = "";
  EXPECT_THROW(PromptEmbedding(c, model(), tok, 1), std::invalid_argument);

  c.init = "vocab";
  PromptEmbedding sampled(c, model(), tok, 4);
  torch::manual_seed(4);
  const torch::Tensor rows = torch::randint(0, cfg().n_vocab, {5}, torch::kInt64);
  EXPECT_TRUE(torch::equal(sampled.output(false).detach(), table.index_select(0, rows)));
  EXPECT_TRUE(sampled.parameters()[0].requires_grad());
  // A parameter of its own, not a view of the frozen table.
  EXPECT_NE(sampled.parameters()[0].data_ptr(), table.data_ptr());

  c.init = "random";
  const torch::Tensor r1 = PromptEmbedding(c, model(), tok, 7).output(false);
  const torch::Tensor r2 = PromptEmbedding(c, model(), tok, 7).output(false);
  EXPECT_EQ(r1.sizes(), (std::vector<int64_t>{5, cfg().n_embd}));
  EXPECT_TRUE(torch::equal(r1, r2));
}

// --- gradients ---------------------------------------------------------------------------------

TEST_F(TrainableTest, EveryParameterGetsAGradientThroughTheFrozenModel) {
  {
    SCOPED_TRACE("prompt embedding");
    const Tokenizer tok(test::byte_vocab());
    PromptTuningConfig c;
    c.virtual_tokens = 3;
    expect_all_parameters_get_gradients(PromptEmbedding(c, model(), tok, 1), cfg().n_embd);
  }
  for (const std::string type : {"mlp", "lstm"}) {
    SCOPED_TRACE("p-tuning " + type);
    PTuningConfig c;
    c.virtual_tokens = 3;
    c.encoder = type;
    expect_all_parameters_get_gradients(PromptEncoder(c, model(), 1), cfg().n_embd);
  }
  for (bool projection : {false, true}) {
    SCOPED_TRACE(projection ? "prefix with projection" : "prefix");
    PrefixTuningConfig c;
    c.virtual_tokens = 3;
    c.projection = projection;
    expect_all_parameters_get_gradients(PrefixEncoder(c, model(), 1), prefix_width());
  }
}

}  // namespace
}  // namespace ptune::methods
