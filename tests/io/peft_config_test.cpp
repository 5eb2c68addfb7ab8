// PEFT adapter configs, the common keys: the adapters PEFT itself saved (tests/data/peft, made by
// scripts/reference/make_peft_fixtures.py on a tiny random Llama with grouped-query attention)
// read with the right common fields, keep every other key verbatim, and save again to PEFT's
// exact bytes. The method keys' checks and the tensor rules are tested with the method schemas
// (tests/methods/peft_keys_test.cpp).
#include "ptune/io/peft_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"

namespace ptune::peft {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

const char* const kMethods[] = {"prompt_tuning", "p_tuning", "prefix_tuning", "prefix_projection"};

std::string dir_of(const std::string& method) {
  return test::data_path("peft/" + method);
}

// The fixtures' base model: hidden 32, 2 layers, 4 heads, 2 key/value heads.
ModelDims tiny_llama() {
  return ModelDims{32, 2, 4, 2, 0};
}

// Prefix tuning's token_dim follows the key/value heads (the schema's kv_width).
bool kv_width(const PromptLearningConfig& c) {
  return c.peft_type == "PREFIX_TUNING";
}

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
  EXPECT_EQ(pt.peft_type, "PROMPT_TUNING");
  EXPECT_EQ(pt.task_type, "CAUSAL_LM");
  EXPECT_TRUE(pt.inference_mode);
  EXPECT_EQ(pt.num_virtual_tokens, 4);
  EXPECT_EQ(pt.token_dim, 32);
  EXPECT_EQ(pt.num_transformer_submodules, 1);
  EXPECT_EQ(pt.num_attention_heads, 4);
  EXPECT_EQ(pt.num_layers, 2);
  EXPECT_FALSE(pt.base_model_name_or_path.has_value());
  // Every other key is kept verbatim: the method's own and the unmodelled common ones.
  EXPECT_EQ(pt.keys.at("peft_version").dump(), "\"0.21.2\"");
  EXPECT_EQ(pt.keys.at("tokenizer_kwargs").dump(), "null");
  EXPECT_EQ(pt.keys.at("prompt_tuning_init"), "RANDOM");
  EXPECT_TRUE(pt.keys.at("prompt_tuning_init_text").is_null());
  EXPECT_TRUE(pt.keys.at("auto_mapping").is_null());
  EXPECT_EQ(pt.keys.count("num_layers"), 0u);  // a field, not a key

  const PromptLearningConfig pe = read_config(dir_of("p_tuning") + "/adapter_config.json");
  EXPECT_EQ(pe.peft_type, "P_TUNING");
  EXPECT_EQ(pe.num_virtual_tokens, 3);
  EXPECT_EQ(pe.keys.at("encoder_reparameterization_type"), "MLP");
  EXPECT_EQ(pe.keys.at("encoder_dropout").dump(), "0.0");

  // Grouped-query attention: PEFT stores the key/value width, not the hidden size.
  const PromptLearningConfig px = read_config(dir_of("prefix_tuning") + "/adapter_config.json");
  EXPECT_EQ(px.peft_type, "PREFIX_TUNING");
  EXPECT_EQ(px.token_dim, 16);
  EXPECT_EQ(px.num_attention_heads, 2);
  EXPECT_EQ(px.keys.at("prefix_projection"), false);
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
    EXPECT_EQ(a.weights.metadata.at("format"), "pt");
    const std::vector<float> v = t.to_float();
    const auto first = want["first"].get<std::vector<double>>();
    for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(v[i], static_cast<float>(first[i])) << i;
    EXPECT_EQ(v.back(), static_cast<float>(want["last"].get<double>()));
    double sum = 0;
    for (float x : v) sum += x;
    EXPECT_NEAR(sum, want["sum"].get<double>(), 1e-4);
    check_against_model(a.config, tiny_llama(), kv_width(a.config));
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

TEST(PeftConfig, FreshConfigWritesTheCommonKeys) {
  PromptLearningConfig c;
  c.peft_type = "PROMPT_TUNING";
  c.num_virtual_tokens = 4;
  fill_from_model(c, tiny_llama(), false);
  const json j = json::parse(to_json(c));
  for (const char* key :
       {"auto_mapping", "base_model_name_or_path", "modules_to_save", "revision"}) {
    EXPECT_TRUE(j.at(key).is_null()) << key;
  }
  EXPECT_EQ(j.at("task_type"), "CAUSAL_LM");
  EXPECT_EQ(j.at("inference_mode"), true);
  EXPECT_EQ(j.at("token_dim"), 32);
  EXPECT_EQ(j.size(), 12u);  // the common keys only: the method adds its own
  // A key set in `keys` wins over the null default.
  c.keys["modules_to_save"] = json::array({"lm_head"});
  EXPECT_EQ(json::parse(to_json(c)).at("modules_to_save"), json::array({"lm_head"}));
}

TEST(PeftConfig, FillFromModelAppliesTheGqaRule) {
  PromptLearningConfig c;
  c.peft_type = "PREFIX_TUNING";
  c.num_virtual_tokens = 5;
  fill_from_model(c, ModelDims{576, 30, 9, 3, 0}, true);  // SmolLM2-135M
  EXPECT_EQ(c.token_dim, 192);
  EXPECT_EQ(c.num_attention_heads, 3);
  EXPECT_EQ(c.num_layers, 30);
  fill_from_model(c, ModelDims{576, 30, 9, 3, 0}, false);
  EXPECT_EQ(c.token_dim, 576);
  EXPECT_EQ(c.num_attention_heads, 9);
  // An explicit head_dim wins over hidden / heads.
  fill_from_model(c, ModelDims{576, 30, 9, 3, 128}, true);
  EXPECT_EQ(c.token_dim, 384);
  EXPECT_THAT(
      [&] {
        fill_from_model(c, ModelDims{576, 30, 7, 7, 0}, true);
      },
      testing::ThrowsMessage<PeftConfigError>(
          HasSubstr("hidden_size 576 is not a multiple of num_heads 7")));
}

TEST(PeftConfig, CheckAgainstModel) {
  const PromptLearningConfig px = read_config(dir_of("prefix_tuning") + "/adapter_config.json");
  EXPECT_THAT(
      [&] {
        check_against_model(px, ModelDims{32, 2, 4, 4, 0}, true);
      },
      testing::ThrowsMessage<PeftConfigError>(
          HasSubstr("adapter key 'token_dim' is 16 but the model needs 32 (head_dim 8 * "
                    "4 key/value heads)")));
  EXPECT_THAT(
      [&] {
        check_against_model(px, ModelDims{32, 3, 4, 2, 0}, true);
      },
      testing::ThrowsMessage<PeftConfigError>(
          HasSubstr("'num_layers' is 2 but the model needs 3")));
  const PromptLearningConfig pt = read_config(dir_of("prompt_tuning") + "/adapter_config.json");
  EXPECT_THAT(
      [&] {
        check_against_model(pt, ModelDims{64, 2, 4, 2, 0}, false);
      },
      testing::ThrowsMessage<PeftConfigError>(
          HasSubstr("'token_dim' is 32 but the model needs 64 (its hidden size)")));
}

TEST(PeftConfig, MissingKeysAndWrongTypesNameTheKey) {
  for (const char* key : {"peft_type", "num_virtual_tokens", "token_dim",
                          "num_transformer_submodules", "num_attention_heads", "num_layers"}) {
    EXPECT_THAT(config_error(edited(key, nullptr)),
                HasSubstr(std::string("missing required key '") + key + "'"));
    const json null_value = nullptr;
    EXPECT_THAT(config_error(edited(key, &null_value)),
                HasSubstr(std::string("missing required key '") + key + "'"));
  }
  const json s = "twenty", f = 2.5, neg = -1, b = true, huge = 18446744073709551615ull;
  EXPECT_THAT(config_error(edited("num_virtual_tokens", &s)),
              HasSubstr("key 'num_virtual_tokens' must be an integer, got a string"));
  EXPECT_THAT(config_error(edited("token_dim", &f)),
              HasSubstr("key 'token_dim' must be an integer, got a float"));
  EXPECT_THAT(config_error(edited("num_layers", &neg)),
              HasSubstr("key 'num_layers' must be positive, got -1"));
  EXPECT_THAT(config_error(edited("num_layers", &huge)),
              HasSubstr("key 'num_layers' is out of range"));
  EXPECT_THAT(config_error(edited("task_type", &b)),
              HasSubstr("key 'task_type' must be a string or null, got a boolean"));
  EXPECT_THAT(config_error(edited("inference_mode", &s)),
              HasSubstr("key 'inference_mode' must be a boolean"));
  EXPECT_THAT(config_error(edited("peft_type", &b)),
              HasSubstr("key 'peft_type' must be a string, got a boolean"));
  const json empty = "", three = 3;
  EXPECT_THAT(config_error(edited("peft_type", &empty)),
              HasSubstr("missing required key 'peft_type'"));
  EXPECT_THAT(config_error(edited("num_transformer_submodules", &three)),
              HasSubstr("must be 1 or 2, got 3"));
  EXPECT_THAT(config_error("[1]"), HasSubstr("must be a JSON object, got an array"));
  EXPECT_THAT(config_error("{\"peft_type\": "), HasSubstr("invalid JSON at byte"));
  EXPECT_THAT([] { read_config("/nonexistent/adapter_config.json"); },
              testing::ThrowsMessage<PeftConfigError>(
                  HasSubstr("/nonexistent/adapter_config.json: cannot open")));
}

// nlohmann alone would keep the last "num_virtual_tokens"; an adapter's shape must not hinge on it.
TEST(PeftConfig, DuplicateKeysAreErrors) {
  const std::string fixture = test::read_file(dir_of("prompt_tuning") + "/adapter_config.json");
  const size_t brace = fixture.find('{');
  ASSERT_NE(brace, std::string::npos);
  std::string twice = fixture;
  twice.insert(brace + 1, "\"num_virtual_tokens\": 1, ");
  EXPECT_THAT(config_error(twice),
              HasSubstr("duplicate key \"num_virtual_tokens\" in the top-level object"));
  EXPECT_THAT(config_error(R"({"peft_type": "PROMPT_TUNING", "x": {"a": 1, "a": 2}})"),
              HasSubstr("invalid JSON at byte 45, line 1, column 46: duplicate key \"a\" in "
                        "object \"x\""));
  const auto path = std::filesystem::temp_directory_path() / "ptune_peft_duplicate_test.json";
  std::ofstream(path) << twice;
  EXPECT_THAT(
      [&] { read_config(path.string()); },
      testing::ThrowsMessage<PeftConfigError>(HasSubstr(path.string() + ": invalid JSON at byte")));
  std::filesystem::remove(path);
}

TEST(PeftConfig, AnyPeftTypeParses) {
  // What a peft_type means is the methods layer's (its schemas); io reads the common keys.
  const json lora = "LORA";
  const PromptLearningConfig c = parse_config(edited("peft_type", &lora));
  EXPECT_EQ(c.peft_type, "LORA");
  EXPECT_EQ(json::parse(to_json(c)).at("peft_type"), "LORA");
}

TEST(PeftConfig, KeysMustNotShadowFieldsAndMustBeValid) {
  PromptLearningConfig pe = read_config(dir_of("p_tuning") + "/adapter_config.json");
  pe.keys["num_layers"] = 3;
  EXPECT_THAT([&] { pe.validate(); },
              testing::ThrowsMessage<PeftConfigError>(HasSubstr("'num_layers' is a field")));
  pe.keys.erase("num_layers");
  pe.keys["future_key"] = json::parse("{not json", nullptr, /*allow_exceptions=*/false);
  EXPECT_THAT([&] { pe.validate(); }, testing::ThrowsMessage<PeftConfigError>(
                                          HasSubstr("'future_key' does not hold valid JSON")));
  pe.keys = json::array();
  EXPECT_THAT([&] { pe.validate(); },
              testing::ThrowsMessage<PeftConfigError>(HasSubstr("must be a JSON object")));
}

TEST(PeftConfig, NewerPeftKeysAreKeptAndWrittenBack) {
  json j = json::parse(test::read_file(dir_of("p_tuning") + "/adapter_config.json"));
  j["some_future_option"] = {{"nested", {1, 2}}};
  j["base_model_name_or_path"] = "Caf\u00e9/model";
  const PromptLearningConfig c = parse_config(j.dump());
  EXPECT_EQ(c.keys.at("some_future_option").dump(), R"({"nested":[1,2]})");
  EXPECT_EQ(c.base_model_name_or_path, "Caf\u00e9/model");
  const std::string out = to_json(c);
  EXPECT_EQ(json::parse(out), j);
  EXPECT_THAT(out, HasSubstr(R"("Caf\u00e9/model")"));  // escaped like Python's json.dumps
}

TEST(PeftConfig, TypedKeyReadsNameTheKey) {
  PromptLearningConfig c = read_config(dir_of("p_tuning") + "/adapter_config.json");
  EXPECT_EQ(key_int(c, "encoder_num_layers", 7), 2);
  EXPECT_EQ(key_int(c, "absent", 7), 7);
  EXPECT_EQ(key_nullable_int(c, "encoder_hidden_size"), 16);
  EXPECT_EQ(key_nullable_int(c, "auto_mapping"), std::nullopt);  // null
  EXPECT_EQ(key_double(c, "encoder_dropout", 0.5), 0.0);
  EXPECT_EQ(key_bool(c, "absent", true), true);
  EXPECT_EQ(key_string(c, "auto_mapping"), std::nullopt);
  EXPECT_EQ(key_enum(c, "encoder_reparameterization_type", "LSTM", {"MLP", "LSTM"}), "MLP");
  EXPECT_EQ(key_enum(c, "absent", "LSTM", {"MLP", "LSTM"}), "LSTM");

  c.keys["encoder_num_layers"] = 2.5;
  EXPECT_THAT([&] { key_int(c, "encoder_num_layers", 2); },
              testing::ThrowsMessage<PeftConfigError>(
                  HasSubstr("key 'encoder_num_layers' must be an integer, got a float")));
  c.keys["encoder_dropout"] = "0.1";
  EXPECT_THAT([&] { key_double(c, "encoder_dropout", 0); },
              testing::ThrowsMessage<PeftConfigError>(
                  HasSubstr("key 'encoder_dropout' must be a number, got a string")));
  c.keys["encoder_reparameterization_type"] = "GRU";
  EXPECT_THAT(
      [&] {
        key_enum(c, "encoder_reparameterization_type", "MLP", {"MLP", "LSTM"});
      },
      testing::ThrowsMessage<PeftConfigError>(
          HasSubstr("key 'encoder_reparameterization_type': unknown value \"GRU\" "
                    "(expected one of MLP, LSTM)")));
  c.keys["prefix_projection"] = nullptr;
  EXPECT_THAT([&] { key_bool(c, "prefix_projection", false); },
              testing::ThrowsMessage<PeftConfigError>(
                  HasSubstr("key 'prefix_projection' must be a boolean, got null")));
  c.keys["tokenizer_name_or_path"] = 3;
  EXPECT_THAT([&] { key_string(c, "tokenizer_name_or_path"); },
              testing::ThrowsMessage<PeftConfigError>(HasSubstr(
                  "key 'tokenizer_name_or_path' must be a string or null, got an integer")));
}

}  // namespace
}  // namespace ptune::peft
