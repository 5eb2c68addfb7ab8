// PEFT prompt-learning artifacts: the adapters PEFT itself saved (tests/data/peft, made by
// scripts/reference/make_peft_fixtures.py on a tiny random Llama with grouped-query attention)
// load with the right config and tensors, and saving them again gives PEFT's exact bytes.
#include "ptune/io/peft_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"

namespace ptune::peft {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

const char* const kMethods[] = {"prompt_tuning", "p_tuning", "prefix_tuning", "prefix_projection"};

std::string dir_of(const std::string& method) { return test::data_path("peft/" + method); }

// The fixtures' base model: hidden 32, 2 layers, 4 heads, 2 key/value heads.
ModelDims tiny_llama() { return ModelDims{32, 2, 4, 2, 0}; }

std::string config_error(const std::string& text) {
  try {
    parse_config(text);
  } catch (const PeftConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

// The prompt-tuning fixture's JSON with one key changed (or removed when value is absent).
std::string edited(const std::string& key, const json* value) {
  json j = json::parse(test::read_file(dir_of("prompt_tuning") + "/adapter_config.json"));
  if (value) {
    j[key] = *value;
  } else {
    j.erase(key);
  }
  return j.dump();
}

TEST(PeftConfig, ReadsEachMethodsFixture) {
  const PromptLearningConfig pt = read_config(dir_of("prompt_tuning") + "/adapter_config.json");
  EXPECT_EQ(pt.peft_type, PeftType::PROMPT_TUNING);
  EXPECT_EQ(pt.task_type, "CAUSAL_LM");
  EXPECT_TRUE(pt.inference_mode);
  EXPECT_EQ(pt.num_virtual_tokens, 4);
  EXPECT_EQ(pt.token_dim, 32);
  EXPECT_EQ(pt.num_transformer_submodules, 1);
  EXPECT_EQ(pt.num_attention_heads, 4);
  EXPECT_EQ(pt.num_layers, 2);
  EXPECT_EQ(pt.prompt_tuning_init, PromptTuningInit::RANDOM);
  EXPECT_FALSE(pt.prompt_tuning_init_text.has_value());
  EXPECT_FALSE(pt.base_model_name_or_path.has_value());
  // Unmodelled keys are kept verbatim.
  EXPECT_EQ(pt.extra.at("peft_version"), "\"0.21.2\"");
  EXPECT_EQ(pt.extra.at("tokenizer_kwargs"), "null");

  const PromptLearningConfig pe = read_config(dir_of("p_tuning") + "/adapter_config.json");
  EXPECT_EQ(pe.peft_type, PeftType::P_TUNING);
  EXPECT_EQ(pe.num_virtual_tokens, 3);
  EXPECT_EQ(pe.encoder_reparameterization_type, EncoderType::MLP);
  EXPECT_EQ(pe.encoder_hidden_size, 16);
  EXPECT_EQ(pe.encoder_num_layers, 2);
  EXPECT_EQ(pe.encoder_dropout, 0.0);

  // Grouped-query attention: PEFT stores the key/value width, not the hidden size.
  const PromptLearningConfig px = read_config(dir_of("prefix_tuning") + "/adapter_config.json");
  EXPECT_EQ(px.peft_type, PeftType::PREFIX_TUNING);
  EXPECT_EQ(px.token_dim, 16);
  EXPECT_EQ(px.num_attention_heads, 2);
  EXPECT_FALSE(px.prefix_projection);
  EXPECT_EQ(px.encoder_hidden_size, 16);

  const PromptLearningConfig pp = read_config(dir_of("prefix_projection") + "/adapter_config.json");
  EXPECT_TRUE(pp.prefix_projection);
  EXPECT_EQ(pp.encoder_hidden_size, 8);
  EXPECT_EQ(pp.num_virtual_tokens, 2);
}

TEST(PeftConfig, LoadsFixtureTensorsWithPeftsValues) {
  for (const char* method : kMethods) {
    SCOPED_TRACE(method);
    const Adapter a = load_adapter(dir_of(method));
    const json want = json::parse(test::read_file(dir_of(method) + "/expected.json"));
    ASSERT_EQ(a.weights.tensors.size(), 1u);
    const auto& t = a.weights.get(want["tensor"].get<std::string>());
    EXPECT_EQ(t.dtype, safetensors::Dtype::F32);
    EXPECT_EQ(t.shape, want["shape"].get<std::vector<uint64_t>>());
    EXPECT_EQ(t.shape, expected_tensors(a.config).at(0).second);
    EXPECT_EQ(a.weights.metadata.at("format"), "pt");
    const std::vector<float> v = t.to_float();
    const auto first = want["first"].get<std::vector<double>>();
    for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(v[i], static_cast<float>(first[i])) << i;
    EXPECT_EQ(v.back(), static_cast<float>(want["last"].get<double>()));
    double sum = 0;
    for (float x : v) sum += x;
    EXPECT_NEAR(sum, want["sum"].get<double>(), 1e-4);
    check_against_model(a.config, tiny_llama());
  }
}

TEST(PeftConfig, WritesPeftsExactBytes) {
  const auto tmp = std::filesystem::temp_directory_path() / "ptune_peft_config_test";
  for (const char* method : kMethods) {
    SCOPED_TRACE(method);
    const std::string config_text = test::read_file(dir_of(method) + "/adapter_config.json");
    EXPECT_EQ(to_json(parse_config(config_text)), config_text);

    const Adapter a = load_adapter(dir_of(method));
    const auto out = tmp / method;
    std::filesystem::create_directories(out);
    save_adapter(out.string(), a.config, a.weights.tensors);
    EXPECT_EQ(test::read_file((out / "adapter_config.json").string()), config_text);
    EXPECT_EQ(test::read_file((out / "adapter_model.safetensors").string()),
              test::read_file(dir_of(method) + "/adapter_model.safetensors"));
    const Adapter b = load_adapter(out.string());
    EXPECT_EQ(b.weights.tensors.at(0).data, a.weights.tensors.at(0).data);
  }
  std::filesystem::remove_all(tmp);
}

TEST(PeftConfig, FreshConfigMatchesPeftsKeys) {
  // A config made here from the model dims writes the keys PEFT writes (all but peft_version).
  for (const char* method : kMethods) {
    SCOPED_TRACE(method);
    const PromptLearningConfig fixture = read_config(dir_of(method) + "/adapter_config.json");
    PromptLearningConfig c;
    c.peft_type = fixture.peft_type;
    c.num_virtual_tokens = fixture.num_virtual_tokens;
    c.prefix_projection = fixture.prefix_projection;
    c.encoder_hidden_size = fixture.encoder_hidden_size;
    fill_from_model(c, tiny_llama());
    c.extra["peft_version"] = "\"0.21.2\"";
    EXPECT_EQ(to_json(c), test::read_file(dir_of(method) + "/adapter_config.json"));
  }
}

TEST(PeftConfig, FillFromModelAppliesTheGqaRule) {
  PromptLearningConfig c;
  c.peft_type = PeftType::PREFIX_TUNING;
  c.num_virtual_tokens = 5;
  fill_from_model(c, ModelDims{576, 30, 9, 3, 0});  // SmolLM2-135M
  EXPECT_EQ(c.token_dim, 192);
  EXPECT_EQ(c.num_attention_heads, 3);
  EXPECT_EQ(c.encoder_hidden_size, 192);
  EXPECT_EQ(expected_tensors(c).at(0).second, (std::vector<uint64_t>{5, 30 * 2 * 192}));
  c.peft_type = PeftType::PROMPT_TUNING;
  c.encoder_hidden_size.reset();
  fill_from_model(c, ModelDims{576, 30, 9, 3, 0});
  EXPECT_EQ(c.token_dim, 576);
  EXPECT_EQ(c.num_attention_heads, 9);
  // An explicit head_dim wins over hidden / heads.
  c.peft_type = PeftType::PREFIX_TUNING;
  fill_from_model(c, ModelDims{576, 30, 9, 3, 128});
  EXPECT_EQ(c.token_dim, 384);
}

TEST(PeftConfig, CheckAgainstModel) {
  const PromptLearningConfig px = read_config(dir_of("prefix_tuning") + "/adapter_config.json");
  EXPECT_THAT([&] { check_against_model(px, ModelDims{32, 2, 4, 4, 0}); },
              testing::ThrowsMessage<PeftConfigError>(HasSubstr(
                  "adapter key 'token_dim' is 16 but the model needs 32 (head_dim 8 * 4 key/value heads)")));
  EXPECT_THAT([&] { check_against_model(px, ModelDims{32, 3, 4, 2, 0}); },
              testing::ThrowsMessage<PeftConfigError>(HasSubstr("'num_layers' is 2 but the model needs 3")));
  const PromptLearningConfig pt = read_config(dir_of("prompt_tuning") + "/adapter_config.json");
  EXPECT_THAT([&] { check_against_model(pt, ModelDims{64, 2, 4, 2, 0}); },
              testing::ThrowsMessage<PeftConfigError>(HasSubstr("'token_dim' is 32 but the model needs 64 (its hidden size)")));
}

TEST(PeftConfig, TensorShapeErrorsExplainTheRule) {
  const PromptLearningConfig px = read_config(dir_of("prefix_tuning") + "/adapter_config.json");
  EXPECT_THAT([&] { check_tensor_shape(px, "prompt_embeddings", {3, 128}); },
              testing::ThrowsMessage<PeftConfigError>(HasSubstr(
                  "PREFIX_TUNING tensor 'prompt_embeddings' has shape [3, 128], expected "
                  "[num_virtual_tokens, num_layers * 2 * token_dim] = [3, 2 * 2 * 16]")));
  const PromptLearningConfig pt = read_config(dir_of("prompt_tuning") + "/adapter_config.json");
  EXPECT_THAT([&] { check_tensor_shape(pt, "prompt_embeddings", {8, 32}); },
              testing::ThrowsMessage<PeftConfigError>(HasSubstr(
                  "[num_virtual_tokens * num_transformer_submodules, token_dim] = [4 * 1, 32]")));
  EXPECT_THAT([&] { check_tensor_shape(pt, "lm_head", {1}); },
              testing::ThrowsMessage<PeftConfigError>(HasSubstr("PROMPT_TUNING adapters hold no tensor 'lm_head'")));
  PromptLearningConfig enc_dec = pt;
  enc_dec.num_transformer_submodules = 2;
  check_tensor_shape(enc_dec, "prompt_embeddings", {8, 32});

  // A whole file: the tensor must be there, and floating point.
  safetensors::File f;
  EXPECT_THAT([&] { check_tensors(pt, f); },
              testing::ThrowsMessage<PeftConfigError>(HasSubstr("has no tensor 'prompt_embeddings'")));
  f.tensors.push_back(safetensors::Tensor{"prompt_embeddings", safetensors::Dtype::I32, {4, 32},
                                          std::vector<uint8_t>(4 * 32 * 4)});
  EXPECT_THAT([&] { check_tensors(pt, f); },
              testing::ThrowsMessage<PeftConfigError>(HasSubstr("dtype I32, expected a float type")));
  EXPECT_THROW(save_adapter("/nonexistent", pt, f.tensors), PeftConfigError);
}

TEST(PeftConfig, MultitaskTensors) {
  PromptLearningConfig c;
  c.peft_type = PeftType::MULTITASK_PROMPT_TUNING;
  c.num_virtual_tokens = 10;
  c.num_tasks = 3;
  c.num_ranks = 2;
  fill_from_model(c, tiny_llama());
  const auto t = expected_tensors(c);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[1].first, "prefix_task_cols");
  EXPECT_EQ(t[1].second, (std::vector<uint64_t>{3, 10, 2}));
  EXPECT_EQ(t[2].first, "prefix_task_rows");
  EXPECT_EQ(t[2].second, (std::vector<uint64_t>{3, 2, 32}));
  const PromptLearningConfig back = parse_config(to_json(c));
  EXPECT_EQ(back.num_tasks, 3);
  EXPECT_EQ(back.num_ranks, 2);
  EXPECT_EQ(json::parse(to_json(c)).count("prompt_tuning_init_state_dict_path"), 1u);
}

TEST(PeftConfig, MissingKeysAndWrongTypesNameTheKey) {
  for (const char* key : {"peft_type", "num_virtual_tokens", "token_dim",
                          "num_transformer_submodules", "num_attention_heads", "num_layers"}) {
    EXPECT_THAT(config_error(edited(key, nullptr)), HasSubstr(std::string("missing required key '") + key + "'"));
    const json null_value = nullptr;
    EXPECT_THAT(config_error(edited(key, &null_value)), HasSubstr(std::string("missing required key '") + key + "'"));
  }
  const json s = "twenty", f = 2.5, neg = -1, b = true, huge = 18446744073709551615ull;
  EXPECT_THAT(config_error(edited("num_virtual_tokens", &s)),
              HasSubstr("key 'num_virtual_tokens' must be an integer, got a string"));
  EXPECT_THAT(config_error(edited("token_dim", &f)), HasSubstr("key 'token_dim' must be an integer, got a float"));
  EXPECT_THAT(config_error(edited("num_layers", &neg)), HasSubstr("key 'num_layers' must be positive, got -1"));
  EXPECT_THAT(config_error(edited("num_layers", &huge)), HasSubstr("key 'num_layers' is out of range"));
  EXPECT_THAT(config_error(edited("task_type", &b)), HasSubstr("key 'task_type' must be a string or null, got a boolean"));
  EXPECT_THAT(config_error(edited("inference_mode", &s)), HasSubstr("key 'inference_mode' must be a boolean"));
  const json lora = "LORA", init = "ZEROS", three = 3;
  EXPECT_THAT(config_error(edited("peft_type", &lora)),
              HasSubstr("key 'peft_type': unknown value \"LORA\" (expected one of PROMPT_TUNING, P_TUNING, PREFIX_TUNING, MULTITASK_PROMPT_TUNING)"));
  EXPECT_THAT(config_error(edited("prompt_tuning_init", &init)), HasSubstr("key 'prompt_tuning_init': unknown value \"ZEROS\""));
  EXPECT_THAT(config_error(edited("num_transformer_submodules", &three)), HasSubstr("must be 1 or 2, got 3"));
  EXPECT_THAT(config_error("[1]"), HasSubstr("must be a JSON object, got an array"));
  EXPECT_THAT(config_error("{\"peft_type\": "), HasSubstr("invalid JSON at byte"));
  EXPECT_THAT([] { read_config("/nonexistent/adapter_config.json"); },
              testing::ThrowsMessage<PeftConfigError>(HasSubstr("/nonexistent/adapter_config.json: cannot open")));
}

TEST(PeftConfig, CrossFieldChecks) {
  const json text = "TEXT", mpt_init = "AVERAGE_SOURCE_TASKS";
  EXPECT_THAT(config_error(edited("prompt_tuning_init", &text)),
              HasSubstr("prompt_tuning_init is TEXT but key 'prompt_tuning_init_text' is not set"));
  EXPECT_THAT(config_error(edited("prompt_tuning_init", &mpt_init)),
              HasSubstr("AVERAGE_SOURCE_TASKS is only for MULTITASK_PROMPT_TUNING"));
  json j = json::parse(edited("prompt_tuning_init", &text));
  j["prompt_tuning_init_text"] = "Classify the sentiment:";
  j["tokenizer_name_or_path"] = "HuggingFaceTB/SmolLM2-135M-Instruct";
  EXPECT_EQ(parse_config(j.dump()).prompt_tuning_init_text, "Classify the sentiment:");

  PromptLearningConfig px = read_config(dir_of("prefix_tuning") + "/adapter_config.json");
  px.num_attention_heads = 3;
  EXPECT_THAT([&] { px.validate(); },
              testing::ThrowsMessage<PeftConfigError>(HasSubstr("token_dim 16 is not a multiple of num_attention_heads 3")));
  PromptLearningConfig pe = read_config(dir_of("p_tuning") + "/adapter_config.json");
  pe.encoder_dropout = 1.0;
  EXPECT_THAT([&] { pe.validate(); },
              testing::ThrowsMessage<PeftConfigError>(HasSubstr("key 'encoder_dropout' must be in [0, 1)")));
  pe.encoder_dropout = 0.1;
  pe.extra["num_layers"] = "3";
  EXPECT_THAT([&] { pe.validate(); }, testing::ThrowsMessage<PeftConfigError>(HasSubstr("'num_layers' is a field")));
  pe.extra.erase("num_layers");
  pe.extra["future_key"] = "{not json";
  EXPECT_THAT([&] { pe.validate(); }, testing::ThrowsMessage<PeftConfigError>(HasSubstr("'future_key' does not hold valid JSON")));
}

TEST(PeftConfig, NewerPeftKeysAreKeptAndWrittenBack) {
  json j = json::parse(test::read_file(dir_of("p_tuning") + "/adapter_config.json"));
  j["some_future_option"] = {{"nested", {1, 2}}};
  j["base_model_name_or_path"] = "Caf\u00e9/model";
  const PromptLearningConfig c = parse_config(j.dump());
  EXPECT_EQ(c.extra.at("some_future_option"), R"({"nested":[1,2]})");
  EXPECT_EQ(c.base_model_name_or_path, "Caf\u00e9/model");
  const std::string out = to_json(c);
  EXPECT_EQ(json::parse(out), j);
  EXPECT_THAT(out, HasSubstr(R"("Caf\u00e9/model")"));  // escaped like Python's json.dumps
}

}  // namespace
}  // namespace ptune::peft
