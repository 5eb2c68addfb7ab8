// The PEFT schemas of the methods (ptune/methods/peft_schema.h and each method's peft_keys.h):
// the adapters PEFT itself saved (tests/data/peft, a tiny random Llama with grouped-query
// attention) read with their method keys, validate, write back to PEFT's exact bytes, and bad
// method keys, shapes and peft_types are errors that say what is wrong.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

// Private headers of ptune_methods (the tests see include/ only).
#include "methods/p_tuning/peft_keys.h"
#include "methods/peft_artifact.h"
#include "methods/prefix_tuning/peft_keys.h"
#include "methods/prompt_tuning/peft_keys.h"
#include "ptune/io/peft_config.h"
#include "ptune/methods/peft_schema.h"
#include "test_util.h"

namespace ptune::methods {
namespace {

using peft::ModelDims;
using peft::PeftConfigError;
using peft::PromptLearningConfig;
using ::testing::HasSubstr;
using json = nlohmann::json;

const char* const kMethods[] = {"prompt_tuning", "p_tuning", "prefix_tuning", "prefix_projection"};

std::string dir_of(const std::string& method) {
  return test::data_path("peft/" + method);
}
std::string config_path(const std::string& method) {
  return dir_of(method) + "/adapter_config.json";
}

// The fixtures' base model: hidden 32, 2 layers, 4 heads, 2 key/value heads.
ModelDims tiny_llama() {
  return ModelDims{32, 2, 4, 2, 0};
}

// parse_config, then the method's checks: "(no error)" or the message.
std::string config_error(const std::string& text) {
  try {
    check_config(peft::parse_config(text));
  } catch (const PeftConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

// A fixture's JSON with one key changed.
std::string edited(const std::string& method, const std::string& key, const json& value) {
  json j = json::parse(test::read_file(config_path(method)));
  j[key] = value;
  return j.dump();
}

TEST(PeftKeys, ReadsEachMethodsFixtureWithItsKeys) {
  const PromptLearningConfig pt = read_artifact(dir_of("prompt_tuning")).config;
  const PromptTuningPeftKeys ptk = read_prompt_tuning_keys(pt);
  EXPECT_EQ(ptk.init, "RANDOM");
  EXPECT_FALSE(ptk.init_text.has_value());
  EXPECT_FALSE(ptk.tokenizer_name_or_path.has_value());

  const PromptLearningConfig pe = read_artifact(dir_of("p_tuning")).config;
  const PTuningPeftKeys pek = read_p_tuning_keys(pe);
  EXPECT_EQ(pek.encoder, "MLP");
  EXPECT_EQ(pek.encoder_hidden_size, 16);
  EXPECT_EQ(pek.encoder_num_layers, 2);
  EXPECT_EQ(pek.encoder_dropout, 0.0);

  const PromptLearningConfig px = read_artifact(dir_of("prefix_tuning")).config;
  EXPECT_EQ(px.token_dim, 16);  // the key/value width, not the hidden size
  EXPECT_FALSE(read_prefix_tuning_keys(px).prefix_projection);
  EXPECT_EQ(read_prefix_tuning_keys(px).encoder_hidden_size, 16);

  const PromptLearningConfig pp = read_artifact(dir_of("prefix_projection")).config;
  EXPECT_TRUE(read_prefix_tuning_keys(pp).prefix_projection);
  EXPECT_EQ(read_prefix_tuning_keys(pp).encoder_hidden_size, 8);
  EXPECT_EQ(pp.num_virtual_tokens, 2);
}

TEST(PeftKeys, FixturesHoldTheExpectedTensorsAndFitTheModel) {
  for (const char* method : kMethods) {
    SCOPED_TRACE(method);
    const peft::Adapter a = read_artifact(dir_of(method));
    const json want = json::parse(test::read_file(dir_of(method) + "/expected.json"));
    const auto expected = expected_tensors(a.config);
    ASSERT_EQ(expected.size(), 1u);
    EXPECT_EQ(expected[0].first, want["tensor"].get<std::string>());
    EXPECT_EQ(a.weights.get(expected[0].first).shape, expected[0].second);
    check_against_model(a.config, tiny_llama());
  }
}

TEST(PeftKeys, WritesPeftsExactBytes) {
  const auto tmp = std::filesystem::temp_directory_path() / "ptune_peft_keys_test";
  for (const char* method : kMethods) {
    SCOPED_TRACE(method);
    const peft::Adapter a = read_artifact(dir_of(method));
    const auto out = tmp / method;
    std::filesystem::create_directories(out);
    write_artifact(out.string(), a.config, a.weights.tensors);
    EXPECT_EQ(test::read_file((out / "adapter_config.json").string()),
              test::read_file(config_path(method)));
    EXPECT_EQ(test::read_file((out / "adapter_model.safetensors").string()),
              test::read_file(dir_of(method) + "/adapter_model.safetensors"));
  }
  std::filesystem::remove_all(tmp);
}

TEST(PeftKeys, FreshConfigMatchesPeftsKeys) {
  // A config made here as the methods' save() makes one writes the keys PEFT writes (all but
  // peft_version, which PEFT adds itself).
  for (const char* method : kMethods) {
    SCOPED_TRACE(method);
    const PromptLearningConfig fixture = peft::read_config(config_path(method));
    PromptLearningConfig c = new_peft_config(fixture.peft_type);
    c.num_virtual_tokens = fixture.num_virtual_tokens;
    if (fixture.peft_type == "PROMPT_TUNING") {
      write_prompt_tuning_keys(c, PromptTuningPeftKeys{});
    } else if (fixture.peft_type == "P_TUNING") {
      PTuningPeftKeys k;
      k.encoder_hidden_size = 16;
      write_p_tuning_keys(c, k);
    } else {
      // Without the projection the width is left unset: PEFT fills token_dim.
      PrefixTuningPeftKeys k = read_prefix_tuning_keys(fixture);
      if (!k.prefix_projection) k.encoder_hidden_size.reset();
      write_prefix_tuning_keys(c, k);
    }
    fill_from_model(c, tiny_llama());
    c.keys["peft_version"] = "0.21.2";
    EXPECT_EQ(peft::to_json(c), test::read_file(config_path(method)));
  }
}

TEST(PeftKeys, FillFromModelAppliesTheGqaRule) {
  PromptLearningConfig c = new_peft_config("PREFIX_TUNING");
  c.num_virtual_tokens = 5;
  fill_from_model(c, ModelDims{576, 30, 9, 3, 0});  // SmolLM2-135M
  EXPECT_EQ(c.token_dim, 192);
  EXPECT_EQ(c.num_attention_heads, 3);
  EXPECT_EQ(read_prefix_tuning_keys(c).encoder_hidden_size, 192);
  EXPECT_EQ(expected_tensors(c).at(0).second, (std::vector<uint64_t>{5, 30 * 2 * 192}));
  c.peft_type = "PROMPT_TUNING";
  fill_from_model(c, ModelDims{576, 30, 9, 3, 0});
  EXPECT_EQ(c.token_dim, 576);
  EXPECT_EQ(c.num_attention_heads, 9);
  // An explicit head_dim wins over hidden / heads.
  c.peft_type = "PREFIX_TUNING";
  fill_from_model(c, ModelDims{576, 30, 9, 3, 128});
  EXPECT_EQ(c.token_dim, 384);
  // P-tuning's unset encoder width is the hidden size; a set one stays.
  PromptLearningConfig pe = new_peft_config("P_TUNING");
  fill_from_model(pe, ModelDims{576, 30, 9, 3, 0});
  EXPECT_EQ(read_p_tuning_keys(pe).encoder_hidden_size, 576);
  write_p_tuning_keys(pe, PTuningPeftKeys{"LSTM", 64, 1, 0.1});
  fill_from_model(pe, ModelDims{576, 30, 9, 3, 0});
  EXPECT_EQ(read_p_tuning_keys(pe).encoder_hidden_size, 64);
}

TEST(PeftKeys, CheckAgainstModelUsesTheSchemasWidth) {
  const PromptLearningConfig px = peft::read_config(config_path("prefix_tuning"));
  EXPECT_THAT(
      [&] {
        check_against_model(px, ModelDims{32, 2, 4, 4, 0});
      },
      testing::ThrowsMessage<PeftConfigError>(
          HasSubstr("adapter key 'token_dim' is 16 but the model needs 32 (head_dim 8 * "
                    "4 key/value heads)")));
  const PromptLearningConfig pt = peft::read_config(config_path("prompt_tuning"));
  EXPECT_THAT(
      [&] {
        check_against_model(pt, ModelDims{64, 2, 4, 2, 0});
      },
      testing::ThrowsMessage<PeftConfigError>(
          HasSubstr("'token_dim' is 32 but the model needs 64 (its hidden size)")));
}

TEST(PeftKeys, TensorShapeErrorsExplainTheRule) {
  const PromptLearningConfig px = peft::read_config(config_path("prefix_tuning"));
  EXPECT_THAT(
      [&] {
        check_tensor_shape(px, "prompt_embeddings", {3, 128});
      },
      testing::ThrowsMessage<PeftConfigError>(
          HasSubstr("PREFIX_TUNING tensor 'prompt_embeddings' has shape [3, 128], "
                    "expected [num_virtual_tokens, num_layers * 2 * token_dim] = "
                    "[3, 2 * 2 * 16]")));
  const PromptLearningConfig pt = peft::read_config(config_path("prompt_tuning"));
  EXPECT_THAT(
      [&] {
        check_tensor_shape(pt, "prompt_embeddings", {8, 32});
      },
      testing::ThrowsMessage<PeftConfigError>(
          HasSubstr("[num_virtual_tokens * num_transformer_submodules, token_dim] = [4 * 1, 32]")));
  EXPECT_THAT([&] { check_tensor_shape(pt, "lm_head", {1}); },
              testing::ThrowsMessage<PeftConfigError>(
                  HasSubstr("PROMPT_TUNING adapters hold no tensor 'lm_head'")));
  PromptLearningConfig enc_dec = pt;
  enc_dec.num_transformer_submodules = 2;
  check_tensor_shape(enc_dec, "prompt_embeddings", {8, 32});

  // A whole file: the tensor must be there, and floating point.
  safetensors::File f;
  EXPECT_THAT([&] { check_tensors(pt, f); }, testing::ThrowsMessage<PeftConfigError>(
                                                 HasSubstr("has no tensor 'prompt_embeddings'")));
  f.tensors.push_back(safetensors::Tensor{
      "prompt_embeddings", safetensors::Dtype::I32, {4, 32}, std::vector<uint8_t>(4 * 32 * 4)});
  EXPECT_THAT([&] { check_tensors(pt, f); }, testing::ThrowsMessage<PeftConfigError>(
                                                 HasSubstr("dtype I32, expected a float type")));
  EXPECT_THROW(write_artifact("/nonexistent", pt, f.tensors), PeftConfigError);
}

TEST(PeftKeys, MultitaskTensors) {
  PromptLearningConfig c = new_peft_config("MULTITASK_PROMPT_TUNING");
  c.num_virtual_tokens = 10;
  c.keys["num_tasks"] = 3;
  c.keys["num_ranks"] = 2;
  fill_from_model(c, tiny_llama());
  const auto t = expected_tensors(c);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[1].first, "prefix_task_cols");
  EXPECT_EQ(t[1].second, (std::vector<uint64_t>{3, 10, 2}));
  EXPECT_EQ(t[2].first, "prefix_task_rows");
  EXPECT_EQ(t[2].second, (std::vector<uint64_t>{3, 2, 32}));
  const PromptLearningConfig back = peft::parse_config(peft::to_json(c));
  check_config(back);
  EXPECT_EQ(back.keys.at("num_tasks"), 3);
  EXPECT_EQ(back.keys.at("num_ranks"), 2);
  EXPECT_EQ(json::parse(peft::to_json(c)).count("prompt_tuning_init_state_dict_path"), 1u);
  EXPECT_THAT(
      [&] {
        check_tensor_shape(c, "prefix_task_rows", {3, 2, 16});
      },
      testing::ThrowsMessage<PeftConfigError>(
          HasSubstr("expected [num_tasks, num_ranks, token_dim] = [3, 2, 32]")));
  EXPECT_THAT(
      [&] {
        check_tensor_shape(c, "prefix_task_cols", {3, 2, 16});
      },
      testing::ThrowsMessage<PeftConfigError>(
          HasSubstr("expected [num_tasks, num_virtual_tokens, num_ranks] = [3, 10, 2]")));
  // The MPT-only inits are fine here; the task id must be one of the tasks.
  c.keys["prompt_tuning_init"] = "AVERAGE_SOURCE_TASKS";
  check_config(c);
  c.keys["prompt_tuning_init_task"] = 3;
  EXPECT_THAT([&] { check_config(c); },
              testing::ThrowsMessage<PeftConfigError>(
                  HasSubstr("key 'prompt_tuning_init_task' 3 is not a task id below num_tasks 3")));
  c.keys["prompt_tuning_init_task"] = 0;
  c.keys["num_ranks"] = 0;
  EXPECT_THAT([&] { check_config(c); }, testing::ThrowsMessage<PeftConfigError>(
                                            HasSubstr("key 'num_ranks' must be positive, got 0")));
}

TEST(PeftKeys, UnknownPeftTypesAndBadKeysNameTheKey) {
  EXPECT_THAT(config_error(edited("prompt_tuning", "peft_type", "LORA")),
              HasSubstr("key 'peft_type': unknown value \"LORA\" (expected one of "
                        "MULTITASK_PROMPT_TUNING, PREFIX_TUNING, PROMPT_TUNING, P_TUNING"));
  EXPECT_THAT(config_error(edited("prompt_tuning", "prompt_tuning_init", "ZEROS")),
              HasSubstr("key 'prompt_tuning_init': unknown value \"ZEROS\""));
  EXPECT_THAT(config_error(edited("p_tuning", "encoder_reparameterization_type", "GRU")),
              HasSubstr("key 'encoder_reparameterization_type': unknown value \"GRU\" "
                        "(expected one of MLP, LSTM)"));
  EXPECT_THAT(config_error(edited("p_tuning", "encoder_num_layers", 1.5)),
              HasSubstr("key 'encoder_num_layers' must be an integer, got a float"));
  EXPECT_THAT(config_error(edited("p_tuning", "encoder_num_layers", 0)),
              HasSubstr("key 'encoder_num_layers' must be positive, got 0"));
  EXPECT_THAT(config_error(edited("p_tuning", "encoder_hidden_size", -4)),
              HasSubstr("key 'encoder_hidden_size' must be positive, got -4"));
  EXPECT_THAT(config_error(edited("prefix_tuning", "prefix_projection", "yes")),
              HasSubstr("key 'prefix_projection' must be a boolean, got a string"));
  EXPECT_THAT(config_error(edited("prefix_tuning", "encoder_hidden_size", 0)),
              HasSubstr("key 'encoder_hidden_size' must be positive, got 0"));
  // A whole directory: the error names the file.
  EXPECT_THAT([] { read_artifact("/nonexistent"); },
              testing::ThrowsMessage<PeftConfigError>(
                  HasSubstr("/nonexistent/adapter_config.json: cannot open")));
}

TEST(PeftKeys, CrossFieldChecks) {
  EXPECT_THAT(config_error(edited("prompt_tuning", "prompt_tuning_init", "TEXT")),
              HasSubstr("prompt_tuning_init is TEXT but key 'prompt_tuning_init_text' is not set"));
  EXPECT_THAT(config_error(edited("prompt_tuning", "prompt_tuning_init", "AVERAGE_SOURCE_TASKS")),
              HasSubstr("AVERAGE_SOURCE_TASKS is only for MULTITASK_PROMPT_TUNING"));
  json j = json::parse(edited("prompt_tuning", "prompt_tuning_init", "TEXT"));
  j["prompt_tuning_init_text"] = "Classify the sentiment:";
  EXPECT_THAT(config_error(j.dump()),
              HasSubstr("prompt_tuning_init is TEXT but key 'tokenizer_name_or_path' is not set"));
  j["tokenizer_name_or_path"] = "HuggingFaceTB/SmolLM2-135M-Instruct";
  const PromptLearningConfig text = peft::parse_config(j.dump());
  check_config(text);
  EXPECT_EQ(read_prompt_tuning_keys(text).init_text, "Classify the sentiment:");

  PromptLearningConfig px = peft::read_config(config_path("prefix_tuning"));
  px.num_attention_heads = 3;
  EXPECT_THAT([&] { check_config(px); },
              testing::ThrowsMessage<PeftConfigError>(
                  HasSubstr("token_dim 16 is not a multiple of num_attention_heads 3")));
  PromptLearningConfig pe = peft::read_config(config_path("p_tuning"));
  pe.keys["encoder_dropout"] = 1.0;
  EXPECT_THAT([&] { check_config(pe); }, testing::ThrowsMessage<PeftConfigError>(
                                             HasSubstr("key 'encoder_dropout' must be in [0, 1)")));
  pe.keys["encoder_dropout"] = 0.1;
  check_config(pe);
}

TEST(PeftKeys, WriteArtifactAddsTheSchemasKeys) {
  // A config built by hand (no new_peft_config) still gets every key PEFT writes.
  PromptLearningConfig c;
  c.peft_type = "PREFIX_TUNING";
  c.num_virtual_tokens = 3;
  fill_from_model(c, tiny_llama());
  const peft::Adapter fixture = read_artifact(dir_of("prefix_tuning"));
  const auto out = std::filesystem::temp_directory_path() / "ptune_peft_keys_hand";
  std::filesystem::create_directories(out);
  write_artifact(out.string(), c, fixture.weights.tensors);
  const json written = json::parse(test::read_file((out / "adapter_config.json").string()));
  EXPECT_TRUE(written.at("init_weights").is_null());
  EXPECT_EQ(written.at("prefix_projection"), false);
  EXPECT_EQ(written.at("encoder_hidden_size"), 16);
  EXPECT_EQ(read_artifact(out.string()).config.token_dim, 16);
  std::filesystem::remove_all(out);
}

TEST(PeftKeys, SchemaRegistry) {
  EXPECT_GE(registered_peft_types().size(), 4u);
  ASSERT_NE(find_peft_schema("PREFIX_TUNING"), nullptr);
  EXPECT_TRUE(find_peft_schema("PREFIX_TUNING")->kv_width);
  EXPECT_FALSE(find_peft_schema("P_TUNING")->kv_width);
  EXPECT_EQ(find_peft_schema("LORA"), nullptr);
  EXPECT_THROW(register_peft_schema(prompt_tuning_peft_schema()), std::invalid_argument);
  EXPECT_THROW(register_peft_schema(PeftSchema{}), std::invalid_argument);
  PeftSchema incomplete;
  incomplete.peft_type = "TEST_INCOMPLETE";
  EXPECT_THROW(register_peft_schema(incomplete), std::invalid_argument);
  // A schema registered at run time is used like the built-ins.
  PeftSchema s = prompt_tuning_peft_schema();
  s.peft_type = "TEST_SOFT_PROMPT";
  if (!find_peft_schema(s.peft_type)) register_peft_schema(s);  // once under --gtest_repeat
  PromptLearningConfig c = new_peft_config("TEST_SOFT_PROMPT");
  c.num_virtual_tokens = 2;
  fill_from_model(c, tiny_llama());
  EXPECT_EQ(expected_tensors(c).at(0).second, (std::vector<uint64_t>{2, 32}));
}

TEST(PeftKeys, PromptEmbeddingsRoundTrip) {
  ModelConfig m;
  m.n_embd = 32;
  m.n_layer = 2;
  m.n_head = 4;
  m.n_head_kv = 2;
  m.head_dim = 8;
  const auto out = std::filesystem::temp_directory_path() / "ptune_peft_keys_roundtrip";
  const torch::Tensor prefix = torch::randn({3, 2 * 2 * 16});
  PromptLearningConfig c = artifact_config("PREFIX_TUNING", 3, "tiny-llama");
  write_prefix_tuning_keys(c, PrefixTuningPeftKeys{});
  write_prompt_embeddings(out.string(), c, prefix, m);
  EXPECT_TRUE(torch::equal(read_prompt_embeddings(out.string(), "PREFIX_TUNING", m), prefix));
  const PromptLearningConfig back = peft::read_config((out / "adapter_config.json").string());
  EXPECT_EQ(back.base_model_name_or_path, "tiny-llama");
  EXPECT_EQ(back.token_dim, 16);
  EXPECT_THAT([&] { read_prompt_embeddings(out.string(), "PROMPT_TUNING", m); },
              testing::ThrowsMessage<PeftConfigError>(
                  HasSubstr("adapter is PREFIX_TUNING, expected PROMPT_TUNING")));
  m.n_layer = 3;
  EXPECT_THAT([&] { read_prompt_embeddings(out.string(), "PREFIX_TUNING", m); },
              testing::ThrowsMessage<PeftConfigError>(
                  HasSubstr("'num_layers' is 2 but the model needs 3")));
  std::filesystem::remove_all(out);
}

}  // namespace
}  // namespace ptune::methods
