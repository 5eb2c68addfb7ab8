// Option bounds (ptune/methods/limits.h): the range checks the CLI and the method configs share
// (strict text, readable messages, no wrapping of "-1" or of text past 64 bits), the memory
// check, and each method's static caps and model-based checks, run before a prompt is built.
#include "ptune/methods/limits.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "ptune/methods/p_tuning.h"
#include "ptune/methods/prefix_tuning.h"
#include "ptune/methods/prompt_tuning.h"
#include "ptune/methods/registry.h"
#include "test_model.h"
#include "tokenizer/tiny_vocab.h"

namespace ptune::methods {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(OptionRanges, IntegersInRangePassAndOthersSayWhy) {
  EXPECT_EQ(integer_range_error("1", 1, 4096), "");
  EXPECT_EQ(integer_range_error("4096", 1, 4096), "");
  EXPECT_EQ(integer_range_error("+5", 0, 9), "");
  EXPECT_EQ(integer_range_error("0", 1, 4096), "0 is not between 1 and 4096");
  EXPECT_EQ(integer_range_error("4097", 1, 4096), "4097 is not between 1 and 4096");
  // The sign check of unsigned options, and overflow: refused, never wrapped or clamped.
  EXPECT_EQ(integer_range_error("-1", 0, 100), "-1 is not between 0 and 100");
  EXPECT_EQ(integer_range_error("99999999999999999999", 0, 1000000000),
            "99999999999999999999 is not between 0 and 1000000000");
  for (const char* bad : {"", "x", "2x", "0x10", " 5", "5 ", "1e3", "1.5", "--1", "+"}) {
    EXPECT_EQ(integer_range_error(bad, 0, 10),
              "expected an integer, got '" + std::string(bad) + "'")
        << bad;
  }
  // A pasted 300-digit number is quoted short.
  EXPECT_LT(integer_range_error(std::string(300, '9'), 0, 10).size(), 80u);
}

TEST(OptionRanges, ParseDecimalIsStrictAndDecimal) {
  int64_t v = 0;
  EXPECT_TRUE(parse_decimal("010", &v));
  EXPECT_EQ(v, 10);  // decimal, not octal
  EXPECT_TRUE(parse_decimal("-9223372036854775808", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::min());
  EXPECT_FALSE(parse_decimal("9223372036854775808", &v));
  EXPECT_FALSE(parse_decimal("0x10", &v));
  EXPECT_TRUE(is_decimal_text("99999999999999999999"));
  EXPECT_FALSE(is_decimal_text("1-2"));
}

TEST(OptionRanges, NumbersMustBeFiniteAndInRange) {
  EXPECT_EQ(number_range_error("0.5", 0, 1), "");
  EXPECT_EQ(number_range_error("1e-3", 0, 1), "");
  EXPECT_EQ(number_range_error("-1", 0, 1), "-1 is not between 0 and 1");
  EXPECT_EQ(number_range_error("nan", 0, 10), "nan is not between 0 and 10");
  EXPECT_EQ(number_range_error("inf", 0, 10), "inf is not between 0 and 10");
  EXPECT_EQ(number_range_error("1e999", 0, 10), "1e999 is not between 0 and 10");
  EXPECT_EQ(number_range_error("0.5x", 0, 1), "expected a number, got '0.5x'");
  EXPECT_EQ(number_range_error("", 0, 1), "expected a number, got ''");
  EXPECT_EQ(number_range_error(" 1", 0, 1), "expected a number, got ' 1'");
  EXPECT_EQ(number_text(1e-8), "1e-08");
}

TEST(OptionRanges, CheckRangeNamesTheOption) {
  check_integer_range("virtual-tokens", 20, 1, 4096);
  EXPECT_THAT(
      [] { check_integer_range("virtual-tokens", 0, 1, 4096); },
      ThrowsMessage<std::invalid_argument>("--virtual-tokens: 0 is not between 1 and 4096"));
  EXPECT_THAT([] { check_number_range("rate", -0.5, 0, 1); },
              ThrowsMessage<std::invalid_argument>("--rate: -0.5 is not between 0 and 1"));
}

TEST(Memory, RefusesMoreThanThePhysicalMemoryWithTheEstimate) {
  ASSERT_GT(physical_memory_bytes(), 0u);
  check_fits_memory("--x 1", 1024, "a little");
  EXPECT_THAT([] { check_fits_memory("--x 9", 1e21, "the thing"); },
              ThrowsMessage<std::invalid_argument>(
                  testing::AllOf(HasSubstr("--x 9: needs about 867.4 EiB (the thing), more than"),
                                 HasSubstr("of memory this machine has"))));
  EXPECT_EQ(bytes_text(512), "512 bytes");
  EXPECT_EQ(bytes_text(1536), "1.5 KiB");
  EXPECT_EQ(bytes_text(3.0 * (1ull << 40)), "3.0 TiB");
}

TEST(MethodBounds, StaticCapsInValidate) {
  PromptTuningConfig pt;
  pt.virtual_tokens = kMaxVirtualTokens + 1;
  EXPECT_THAT([&] { pt.validate(); }, ThrowsMessage<std::invalid_argument>(
                                          "--virtual-tokens: 4097 is not between 1 and 4096"));
  PTuningConfig p;
  p.hidden_size = kMaxEncoderHidden + 1;
  EXPECT_THAT([&] { p.validate(); }, ThrowsMessage<std::invalid_argument>(
                                         "--encoder-hidden: 65537 is not between 0 and 65536"));
  p = PTuningConfig{};
  p.lstm_layers = 0;
  EXPECT_THAT([&] { p.validate(); },
              ThrowsMessage<std::invalid_argument>("--encoder-layers: 0 is not between 1 and 64"));
  PrefixTuningConfig x;
  x.projection = true;
  x.hidden_size = -1;
  EXPECT_THAT([&] { x.validate(); }, ThrowsMessage<std::invalid_argument>(
                                         "--encoder-hidden: -1 is not between 0 and 65536"));
}

// SmolLM2-135M's shape, with a context of 16 tokens.
ModelConfig small_model() {
  ModelConfig m;
  m.n_vocab = 49152, m.n_embd = 576, m.n_layer = 30, m.n_head = 9, m.n_head_kv = 3;
  m.head_dim = 64, m.n_ff = 1536, m.n_ctx_train = 16;
  return m;
}

TEST(MethodBounds, VirtualTokensMustLeaveRoomInTheContext) {
  PromptTuningConfig pt;
  pt.virtual_tokens = 15;
  pt.validate_for(small_model());
  pt.virtual_tokens = 16;
  EXPECT_THAT([&] { pt.validate_for(small_model()); },
              ThrowsMessage<std::invalid_argument>(
                  "--virtual-tokens 16: leaves no room for the input in the model's context of "
                  "16 tokens"));
  ModelConfig unknown = small_model();
  unknown.n_ctx_train = 0;  // the file does not say: no check
  pt.validate_for(unknown);
  PTuningConfig p;
  p.virtual_tokens = 16;
  EXPECT_THROW(p.validate_for(small_model()), std::invalid_argument);
  PrefixTuningConfig x;
  x.virtual_tokens = 16;
  EXPECT_THROW(x.validate_for(small_model()), std::invalid_argument);
}

TEST(MethodBounds, EncodersMustFitInMemory) {
  PTuningConfig p;
  p.virtual_tokens = 8;
  p.validate_for(small_model());  // the default encoder: hidden = 576
  p.encoder = "lstm";
  p.lstm_layers = kMaxEncoderLayers;
  p.hidden_size = kMaxEncoderHidden;  // ~6.5e12 parameters
  EXPECT_THAT([&] { p.validate_for(small_model()); },
              ThrowsMessage<std::invalid_argument>(
                  testing::AllOf(HasSubstr("--encoder-hidden 65536 --encoder-layers 64: needs "
                                           "about "),
                                 HasSubstr("TiB (the prompt encoder's parameters"))));
  PrefixTuningConfig x;
  x.virtual_tokens = 8;
  x.projection = true;
  x.validate_for(small_model());
  ModelConfig wide = small_model();
  wide.n_layer = 4096, wide.n_head_kv = 64, wide.head_dim = 256;  // prefix rows 2^27 wide
  x.hidden_size = kMaxEncoderHidden;
  EXPECT_THAT([&] { x.validate_for(wide); }, ThrowsMessage<std::invalid_argument>(
                                                 HasSubstr("--encoder-hidden 65536: needs about")));
}

// Building a prompt through the registry runs the model-based checks first.
TEST(MethodBounds, BuildingAPromptChecksItAgainstTheModel) {
  const Model& model = test::tiny_model();  // context 256
  const Tokenizer tok(test::byte_vocab());
  const Method& m = method_named("prompt-tuning");
  PromptTuningConfig c;
  c.init = "random";
  c.virtual_tokens = model.config().n_ctx_train;
  EXPECT_THAT(
      [&] {
        m.make_prompt(c, BuildContext{model, tok, 1});
      },
      ThrowsMessage<std::invalid_argument>(HasSubstr("leaves no room for the input")));
  c.virtual_tokens = 4;
  EXPECT_EQ(m.make_prompt(c, BuildContext{model, tok, 1})->n_virtual(), 4);
}

}  // namespace
}  // namespace ptune::methods
