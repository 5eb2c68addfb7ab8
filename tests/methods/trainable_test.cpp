// The trainable prompts (include/ptune/methods/trainable.h) on the tiny random llama: output
// shapes, parameter counts equal to PEFT's encoders, seeded initialisation, dropout only in
// training, gradients reaching every parameter through the frozen model, and artifacts that load
// back to the same prompt.
//
// Tiny model: V = 64, C = 32, L = 2, Hkv = 2, D = 8 (so Hkv * D = 16, L * 2 * Hkv * D = 64).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>

#include "ptune/methods/adapter.h"
#include "ptune/methods/p_tuning.h"
#include "ptune/methods/prefix_tuning.h"
#include "ptune/methods/prompt_tuning.h"
#include "test_util.h"
#include "tokenizer/tiny_vocab.h"

namespace ptune::methods {
namespace {

namespace fs = std::filesystem;

class TrainableTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = test::write_tiny_llama({});
    model_ = new LlamaModel(LlamaModel::load(path_));
  }
  static void TearDownTestSuite() {
    delete model_;
    fs::remove(path_);
  }
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ptune_trainable_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static const LlamaConfig& cfg() { return model_->config(); }
  static int64_t kv_dim() { return cfg().n_head_kv * cfg().head_dim; }
  static int64_t prefix_width() { return cfg().n_layer * 2 * kv_dim(); }
  static int64_t count(const std::vector<torch::Tensor>& ps) {
    int64_t n = 0;
    for (const torch::Tensor& p : ps) n += p.numel();
    return n;
  }
  static double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.detach() - b.detach()).abs().max().item<double>();
  }
  static double max_diff(const PastKV& a, const PastKV& b) {
    EXPECT_EQ(a.keys.size(), b.keys.size());
    double d = 0;
    for (size_t l = 0; l < a.keys.size() && l < b.keys.size(); ++l) {
      EXPECT_EQ(a.keys[l].sizes(), b.keys[l].sizes());
      EXPECT_EQ(a.values[l].sizes(), b.values[l].sizes());
      d = std::max(d, max_diff(a.keys[l], b.keys[l]));
      d = std::max(d, max_diff(a.values[l], b.values[l]));
    }
    return d;
  }
  static nlohmann::json read_config(const fs::path& dir) {
    return nlohmann::json::parse(test::read_file((dir / "adapter_config.json").string()));
  }

  // Back-propagates a loss through the frozen model from the prompt's output and checks that
  // every parameter, and no model weight, gets a gradient.
  static void expect_all_parameters_get_gradients(const TrainablePrompt& prompt) {
    for (const torch::Tensor& p : prompt.parameters()) {
      ASSERT_TRUE(p.requires_grad());
      if (p.grad().defined()) p.mutable_grad().zero_();
    }
    const torch::Tensor ids = torch::tensor({5, 9, 17, 3, 22, 8, 7, 11, 2, 1}).view({2, 5});
    const torch::Tensor out = prompt.output(/*training=*/true);
    ForwardArgs a;
    PastKV past;
    if (prompt.form() == TrainablePrompt::Form::SoftPrompt) {
      EXPECT_EQ(out.sizes(), (std::vector<int64_t>{out.size(0), cfg().n_embd}));
      auto in = PromptTuning(out).prepend(*model_, ids);
      a.input_embeds = in.embeds;
      a.attention_mask = in.mask;
    } else {
      EXPECT_EQ(out.sizes(), (std::vector<int64_t>{out.size(0), prefix_width()}));
      PrefixTuning pre(out, cfg());
      past = pre.past(2);
      a.input_ids = ids;
      a.past = &past;
      a.attention_mask = pre.extend_mask({}, 2, 5);
    }
    model_->forward(a).logits.sum().backward();
    const std::vector<torch::Tensor> params = prompt.parameters();
    for (size_t i = 0; i < params.size(); ++i) {
      ASSERT_TRUE(params[i].grad().defined()) << "parameter " << i;
      EXPECT_GT(params[i].grad().abs().sum().item<double>(), 0.0) << "parameter " << i;
    }
    EXPECT_FALSE(model_->token_embedding().requires_grad());
    EXPECT_FALSE(model_->token_embedding().grad().defined());
  }

  static std::string path_;
  static LlamaModel* model_;
  fs::path dir_;
};
std::string TrainableTest::path_;
LlamaModel* TrainableTest::model_ = nullptr;

// --- P-tuning's PromptEncoder ----------------------------------------------------------------

TEST_F(TrainableTest, PromptEncoderMlpShapeAndPeftParameterCount) {
  const int64_t N = 5, C = cfg().n_embd;
  for (int64_t hidden : {int64_t{0}, int64_t{24}}) {
    PTuningConfig c;
    c.virtual_tokens = N;
    c.encoder = peft::EncoderType::MLP;
    c.hidden_size = hidden;
    PromptEncoder enc(c, *model_, 1);
    EXPECT_EQ(enc.form(), TrainablePrompt::Form::SoftPrompt);
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
      c.encoder = peft::EncoderType::LSTM;
      c.hidden_size = hidden;
      c.lstm_layers = layers;
      PromptEncoder enc(c, *model_, 3);
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
  for (auto type : {peft::EncoderType::MLP, peft::EncoderType::LSTM}) {
    PTuningConfig c;
    c.virtual_tokens = 3;
    c.encoder = type;
    const torch::Tensor a = PromptEncoder(c, *model_, 11).output(false);
    const torch::Tensor b = PromptEncoder(c, *model_, 11).output(false);
    const torch::Tensor other = PromptEncoder(c, *model_, 12).output(false);
    EXPECT_TRUE(torch::equal(a, b));
    EXPECT_GT(max_diff(a, other), 1e-4);
  }
}

TEST_F(TrainableTest, PromptEncoderLstmDropoutOnlyWhenTraining) {
  PTuningConfig c;
  c.virtual_tokens = 6;
  c.encoder = peft::EncoderType::LSTM;
  c.lstm_layers = 2;
  c.dropout = 0.5;
  PromptEncoder enc(c, *model_, 5);
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
  EXPECT_THROW(PromptEncoder(c, *model_, 1), std::invalid_argument);
  c = PTuningConfig{};
  c.hidden_size = -1;
  EXPECT_THROW(PromptEncoder(c, *model_, 1), std::invalid_argument);
  c = PTuningConfig{};
  c.dropout = 1.0;
  EXPECT_THROW(PromptEncoder(c, *model_, 1), std::invalid_argument);
  c = PTuningConfig{};
  c.encoder = peft::EncoderType::LSTM;
  c.lstm_layers = 0;
  EXPECT_THROW(PromptEncoder(c, *model_, 1), std::invalid_argument);
}

// --- PrefixEncoder ---------------------------------------------------------------------------

TEST_F(TrainableTest, PrefixEncoderStartsFromTheModelsKeysAndValues) {
  const int64_t N = 5;
  const uint64_t seed = 9;
  PrefixTuningConfig c;
  c.virtual_tokens = N;
  PrefixEncoder enc(c, *model_, seed);
  EXPECT_EQ(enc.form(), TrainablePrompt::Form::Prefix);
  const torch::Tensor out = enc.output(false);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{N, prefix_width()}));
  ASSERT_EQ(enc.parameters().size(), 1u);
  EXPECT_EQ(enc.parameters()[0].sizes(), out.sizes());
  EXPECT_TRUE(enc.parameters()[0].requires_grad());

  // The rows the constructor samples, drawn the same way.
  torch::manual_seed(static_cast<int64_t>(seed));
  const torch::Tensor rows = torch::randint(0, cfg().n_vocab, {N}, torch::kInt64);
  const PastKV want = soft_prompt_state(*model_, model_->token_embedding().index_select(0, rows));
  EXPECT_LT(max_diff(PrefixTuning(out.detach(), cfg()).past(1), want), 1e-5);

  // Another seed samples other tokens.
  const torch::Tensor other = PrefixEncoder(c, *model_, seed + 1).output(false);
  EXPECT_GT(max_diff(out, other), 1e-4);
}

TEST_F(TrainableTest, PrefixEncoderProjectionParameters) {
  const int64_t N = 3, kv = kv_dim();
  for (int64_t hidden : {int64_t{0}, int64_t{24}}) {
    PrefixTuningConfig c;
    c.virtual_tokens = N;
    c.projection = true;
    c.hidden_size = hidden;
    PrefixEncoder enc(c, *model_, 2);
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
  const torch::Tensor want = PrefixEncoder(plain, *model_, 4).output(false);
  const torch::Tensor got = PrefixEncoder(projected, *model_, 4).output(false);
  EXPECT_LT(max_diff(got, want), 1e-3 * (1 + want.abs().max().item<double>()));
  projected.virtual_tokens = plain.virtual_tokens = 40;  // more tokens than H + 1: only a fit
  const torch::Tensor fit = PrefixEncoder(projected, *model_, 4).output(false);
  const torch::Tensor target = PrefixEncoder(plain, *model_, 4).output(false);
  EXPECT_LT((fit - target).norm().item<double>(), target.norm().item<double>());
}

TEST_F(TrainableTest, PrefixEncoderRejectsBadSizes) {
  PrefixTuningConfig c;
  c.virtual_tokens = 0;
  EXPECT_THROW(PrefixEncoder(c, *model_, 1), std::invalid_argument);
  c = PrefixTuningConfig{};
  c.projection = true;
  c.hidden_size = -2;
  EXPECT_THROW(PrefixEncoder(c, *model_, 1), std::invalid_argument);
}

// --- PromptEmbedding (byte-level tokenizer: ids are the bytes, all < V for '!'..'0') ---------

TEST_F(TrainableTest, PromptEmbeddingInits) {
  const Tokenizer tok(test::byte_vocab());
  const torch::Tensor& table = model_->token_embedding();
  PromptTuningConfig c;
  c.virtual_tokens = 5;
  c.init = PromptInit::Text;
  c.init_text = "0!";  // bytes 48, 33, repeated to N
  PromptEmbedding text(c, *model_, tok, 1);
  EXPECT_TRUE(torch::equal(text.output(false).detach(),
                           table.index_select(0, torch::tensor({48, 33, 48, 33, 48}))));
  c.init_text = "";
  EXPECT_THROW(PromptEmbedding(c, *model_, tok, 1), std::invalid_argument);

  c.init = PromptInit::SampleVocab;
  PromptEmbedding sampled(c, *model_, tok, 4);
  torch::manual_seed(4);
  const torch::Tensor rows = torch::randint(0, cfg().n_vocab, {5}, torch::kInt64);
  EXPECT_TRUE(torch::equal(sampled.output(false).detach(), table.index_select(0, rows)));
  EXPECT_TRUE(sampled.parameters()[0].requires_grad());
  // A parameter of its own, not a view of the frozen table.
  EXPECT_NE(sampled.parameters()[0].data_ptr(), table.data_ptr());

  c.init = PromptInit::Random;
  const torch::Tensor r1 = PromptEmbedding(c, *model_, tok, 7).output(false);
  const torch::Tensor r2 = PromptEmbedding(c, *model_, tok, 7).output(false);
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
    expect_all_parameters_get_gradients(PromptEmbedding(c, *model_, tok, 1));
  }
  for (auto type : {peft::EncoderType::MLP, peft::EncoderType::LSTM}) {
    SCOPED_TRACE(type == peft::EncoderType::MLP ? "p-tuning MLP" : "p-tuning LSTM");
    PTuningConfig c;
    c.virtual_tokens = 3;
    c.encoder = type;
    expect_all_parameters_get_gradients(PromptEncoder(c, *model_, 1));
  }
  for (bool projection : {false, true}) {
    SCOPED_TRACE(projection ? "prefix with projection" : "prefix");
    PrefixTuningConfig c;
    c.virtual_tokens = 3;
    c.projection = projection;
    expect_all_parameters_get_gradients(PrefixEncoder(c, *model_, 1));
  }
}

// --- artifacts ---------------------------------------------------------------------------------

TEST_F(TrainableTest, PTuningSavesItsOutputAndLoadsAsAnAdapter) {
  for (auto type : {peft::EncoderType::MLP, peft::EncoderType::LSTM}) {
    SCOPED_TRACE(type == peft::EncoderType::MLP ? "MLP" : "LSTM");
    PTuningConfig c;
    c.virtual_tokens = 4;
    c.encoder = type;
    c.hidden_size = 16;
    c.lstm_layers = 2;
    c.dropout = 0.25;
    PromptEncoder enc(c, *model_, 21);
    fs::remove_all(dir_);
    enc.save(dir_.string(), cfg(), "tiny-base");
    const nlohmann::json j = read_config(dir_);
    EXPECT_EQ(j.at("peft_type"), "P_TUNING");
    EXPECT_EQ(j.at("encoder_reparameterization_type"),
              type == peft::EncoderType::MLP ? "MLP" : "LSTM");
    EXPECT_EQ(j.at("encoder_hidden_size"), 16);
    EXPECT_EQ(j.at("num_virtual_tokens"), 4);
    EXPECT_EQ(j.at("base_model_name_or_path"), "tiny-base");
    EXPECT_TRUE(fs::exists(dir_ / "adapter_model.safetensors"));

    const Adapter adapter = Adapter::load(dir_.string(), cfg());
    EXPECT_EQ(adapter.method(), "P_TUNING");
    EXPECT_EQ(adapter.n_virtual(), 4);
    const PastKV want = soft_prompt_state(*model_, enc.output(false).detach());
    EXPECT_LT(max_diff(adapter.prefix_state(*model_), want), 1e-6);
  }
}

TEST_F(TrainableTest, ProjectedPrefixSavesItsOutput) {
  PrefixTuningConfig c;
  c.virtual_tokens = 3;
  c.projection = true;
  c.hidden_size = 20;
  PrefixEncoder enc(c, *model_, 8);
  enc.save(dir_.string(), cfg(), "tiny-base");
  const nlohmann::json j = read_config(dir_);
  EXPECT_EQ(j.at("peft_type"), "PREFIX_TUNING");
  EXPECT_EQ(j.at("prefix_projection"), true);
  EXPECT_EQ(j.at("encoder_hidden_size"), 20);
  const PrefixTuning loaded = PrefixTuning::load(dir_.string(), cfg());
  EXPECT_EQ(loaded.prefix().sizes(), (std::vector<int64_t>{3, prefix_width()}));
  EXPECT_LT(max_diff(loaded.prefix(), enc.output(false)), 1e-6);
  EXPECT_EQ(Adapter::load(dir_.string(), cfg()).method(), "PREFIX_TUNING");
}

TEST_F(TrainableTest, DirectPrefixSavesItsParameter) {
  PrefixTuningConfig c;
  c.virtual_tokens = 2;
  PrefixEncoder enc(c, *model_, 8);
  enc.save(dir_.string(), cfg(), "tiny-base");
  const nlohmann::json j = read_config(dir_);
  EXPECT_EQ(j.at("peft_type"), "PREFIX_TUNING");
  EXPECT_EQ(j.at("prefix_projection"), false);
  EXPECT_LT(max_diff(PrefixTuning::load(dir_.string(), cfg()).prefix(), enc.output(false)), 1e-6);
}

TEST_F(TrainableTest, PromptEmbeddingSavesAsPromptTuning) {
  const Tokenizer tok(test::byte_vocab());
  PromptTuningConfig c;
  c.virtual_tokens = 3;
  c.init = PromptInit::Text;
  c.init_text = "0!";
  PromptEmbedding emb(c, *model_, tok, 1);
  emb.save(dir_.string(), cfg(), "tiny-base");
  const nlohmann::json j = read_config(dir_);
  EXPECT_EQ(j.at("peft_type"), "PROMPT_TUNING");
  EXPECT_EQ(j.at("prompt_tuning_init"), "TEXT");
  EXPECT_EQ(j.at("prompt_tuning_init_text"), "0!");
  EXPECT_LT(max_diff(PromptTuning::load(dir_.string(), cfg()).embeddings(), emb.output(false)),
            1e-6);
}

}  // namespace
}  // namespace ptune::methods
