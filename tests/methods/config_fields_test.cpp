// Method configs described once: options set from text with errors naming the flag, recorded as
// JSON, and each built-in method's config validated with messages naming the option.
#include "ptune/methods/config_fields.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ptune/methods/p_tuning.h"
#include "ptune/methods/prefix_tuning.h"
#include "ptune/methods/prompt_tuning.h"
#include "ptune/methods/registry.h"

namespace ptune::methods {
namespace {

using ::testing::HasSubstr;

TEST(ConfigFields, SetsEachKindFromTextAndRecordsJson) {
  int64_t n = 1;
  double d = 0.5;
  bool b = false;
  std::string s = "a";
  ConfigFields f;
  f.add("n", &n, "an integer");
  f.add("d", &d, "a number");
  f.add("b", &b, "a flag");
  f.add("s", &s, "a choice", {"a", "b"});
  f.set("n", "42");
  f.set("d", "0.25");
  f.set("b", "true");
  f.set("s", "b");
  EXPECT_EQ(n, 42);
  EXPECT_EQ(d, 0.25);
  EXPECT_TRUE(b);
  EXPECT_EQ(s, "b");
  EXPECT_EQ(f.to_json(), (nlohmann::json{{"n", 42}, {"d", 0.25}, {"b", true}, {"s", "b"}}));
  EXPECT_EQ(ConfigFields::value_text(*f.find("n")), "42");
  EXPECT_EQ(f.find("nope"), nullptr);
}

TEST(ConfigFields, BadTextNamesTheOption) {
  int64_t n = 1;
  double d = 0;
  std::string s = "a";
  ConfigFields f;
  f.add("virtual-tokens", &n, "");
  f.add("rate", &d, "");
  f.add("encoder", &s, "", {"mlp", "lstm"});
  EXPECT_THAT([&] { f.set("virtual-tokens", "2x"); },
              testing::ThrowsMessage<std::invalid_argument>(
                  HasSubstr("--virtual-tokens: expected an integer, got '2x'")));
  EXPECT_THAT([&] { f.set("virtual-tokens", "99999999999999999999"); },
              testing::ThrowsMessage<std::invalid_argument>(HasSubstr(
                  "--virtual-tokens: 99999999999999999999 does not fit a 64-bit integer")));
  EXPECT_THAT([&] { f.set("virtual-tokens", "0x10"); },  // decimal only, as the CLI's flags
              testing::ThrowsMessage<std::invalid_argument>(HasSubstr("expected an integer")));
  EXPECT_THAT([&] { f.set("rate", ""); }, testing::ThrowsMessage<std::invalid_argument>(
                                              HasSubstr("--rate: expected a number")));
  EXPECT_THAT([&] { f.set("encoder", "gru"); },
              testing::ThrowsMessage<std::invalid_argument>(
                  HasSubstr("--encoder: expected one of mlp, lstm, got 'gru'")));
  EXPECT_THAT([&] { f.set("other", "1"); },
              testing::ThrowsMessage<std::invalid_argument>(HasSubstr("--other: no such option")));
  EXPECT_EQ(n, 1);  // nothing half-set
}

// Every built-in method: each option has help, the defaults validate, and a bad value is refused
// naming the option.
TEST(MethodConfigs, BuiltInsDescribeAndValidate) {
  for (const char* name : {"prompt-tuning", "p-tuning", "prefix-tuning"}) {
    SCOPED_TRACE(name);
    const Method& m = method_named(name);
    EXPECT_FALSE(m.description.empty());
    EXPECT_FALSE(m.peft_type.empty());
    auto config = m.make_config();
    ConfigFields f;
    config->describe(f);
    ASSERT_FALSE(f.all().empty());
    for (const ConfigField& field : f.all()) EXPECT_FALSE(field.help.empty()) << field.name;
    config->validate();
    EXPECT_GT(config->default_lr(), 0);
    f.set("virtual-tokens", "0");
    EXPECT_THAT([&] { config->validate(); },
                testing::ThrowsMessage<std::invalid_argument>(HasSubstr("--virtual-tokens")));
  }
  EXPECT_THAT([] { method_named("lora"); },
              testing::ThrowsMessage<std::invalid_argument>(HasSubstr(
                  "unknown method 'lora' (methods: p-tuning, prefix-tuning, prompt-tuning")));
}

TEST(MethodConfigs, CrossOptionChecks) {
  PromptTuningConfig pt;
  pt.init = "text";
  EXPECT_THAT([&] { pt.validate(); }, testing::ThrowsMessage<std::invalid_argument>(
                                          HasSubstr("--init text needs --init-text")));
  PTuningConfig p;
  p.dropout = 1.0;
  EXPECT_THAT([&] { p.validate(); },
              testing::ThrowsMessage<std::invalid_argument>(HasSubstr("--encoder-dropout")));
  PrefixTuningConfig x;
  x.hidden_size = 8;
  EXPECT_THAT([&] { x.validate(); }, testing::ThrowsMessage<std::invalid_argument>(
                                         HasSubstr("only used with --prefix-projection")));
  x.projection = true;
  x.validate();
  EXPECT_EQ(x.default_lr(), 3e-4);  // the projection wants a smaller step
}

}  // namespace
}  // namespace ptune::methods
