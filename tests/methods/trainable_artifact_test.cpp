// The trainable prompts' artifacts (include/ptune/methods/trainable.h, save()): each writes a
// PEFT adapter folder whose adapter_config.json names its method and options, and which loads
// back through load_prompt_artifact to the same prompt. Fixture: trainable_fixture.h.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "tokenizer/tiny_vocab.h"
#include "trainable_fixture.h"

namespace ptune::methods {
namespace {

namespace fs = std::filesystem;

// --- artifacts ---------------------------------------------------------------------------------

TEST_F(TrainableTest, PTuningSavesItsOutputAndLoadsAsAnAdapter) {
  for (const std::string type : {"mlp", "lstm"}) {
    SCOPED_TRACE(type);
    PTuningConfig c;
    c.virtual_tokens = 4;
    c.encoder = type;
    c.hidden_size = 16;
    c.lstm_layers = 2;
    c.dropout = 0.25;
    PromptEncoder enc(c, model(), 21);
    fs::remove_all(dir_);
    enc.save(dir_.string(), cfg(), "tiny-base");
    const nlohmann::json j = read_config(dir_);
    EXPECT_EQ(j.at("peft_type"), "P_TUNING");
    EXPECT_EQ(j.at("encoder_reparameterization_type"), type == "mlp" ? "MLP" : "LSTM");
    EXPECT_EQ(j.at("encoder_hidden_size"), 16);
    EXPECT_EQ(j.at("num_virtual_tokens"), 4);
    EXPECT_EQ(j.at("base_model_name_or_path"), "tiny-base");
    EXPECT_TRUE(fs::exists(dir_ / "adapter_model.safetensors"));

    const PromptArtifact adapter = load_prompt_artifact(dir_.string(), model());
    EXPECT_EQ(adapter.method, "p-tuning");
    ASSERT_NE(adapter.continuous, nullptr);
    EXPECT_EQ(adapter.continuous->n_virtual(), 4);
    const PastKV want = soft_prompt_state(model(), enc.output(false).detach());
    EXPECT_LT(max_diff(adapter.state(model()), want), 1e-6);
  }
}

TEST_F(TrainableTest, ProjectedPrefixSavesItsOutput) {
  PrefixTuningConfig c;
  c.virtual_tokens = 3;
  c.projection = true;
  c.hidden_size = 20;
  PrefixEncoder enc(c, model(), 8);
  enc.save(dir_.string(), cfg(), "tiny-base");
  const nlohmann::json j = read_config(dir_);
  EXPECT_EQ(j.at("peft_type"), "PREFIX_TUNING");
  EXPECT_EQ(j.at("prefix_projection"), true);
  EXPECT_EQ(j.at("encoder_hidden_size"), 20);
  const PromptArtifact loaded = load_prompt_artifact(dir_.string(), model());
  EXPECT_EQ(loaded.method, "prefix-tuning");
  ASSERT_NE(loaded.continuous, nullptr);
  const torch::Tensor prefix = loaded.continuous->output(false);
  EXPECT_EQ(prefix.sizes(), (std::vector<int64_t>{3, prefix_width()}));
  EXPECT_LT(max_diff(prefix, enc.output(false)), 1e-6);
}

TEST_F(TrainableTest, DirectPrefixSavesItsParameter) {
  PrefixTuningConfig c;
  c.virtual_tokens = 2;
  PrefixEncoder enc(c, model(), 8);
  enc.save(dir_.string(), cfg(), "tiny-base");
  const nlohmann::json j = read_config(dir_);
  EXPECT_EQ(j.at("peft_type"), "PREFIX_TUNING");
  EXPECT_EQ(j.at("prefix_projection"), false);
  EXPECT_LT(max_diff(loaded_output(), enc.output(false)), 1e-6);
}

TEST_F(TrainableTest, PromptEmbeddingSavesAsPromptTuning) {
  const Tokenizer tok(test::byte_vocab());
  PromptTuningConfig c;
  c.virtual_tokens = 3;
  c.init = "text";
  c.init_text = "0!";
  PromptEmbedding emb(c, model(), tok, 1);
  emb.save(dir_.string(), cfg(), "tiny-base");
  const nlohmann::json j = read_config(dir_);
  EXPECT_EQ(j.at("peft_type"), "PROMPT_TUNING");
  EXPECT_EQ(j.at("prompt_tuning_init"), "TEXT");
  EXPECT_EQ(j.at("prompt_tuning_init_text"), "0!");
  EXPECT_EQ(load_prompt_artifact(dir_.string(), model()).method, "prompt-tuning");
  EXPECT_LT(max_diff(loaded_output(), emb.output(false)), 1e-6);
}

}  // namespace
}  // namespace ptune::methods
