// Pre-tokenizer splits, checked against HF tokenizers' pre_tokenize_str on the same patterns.
#include "ptune/tokenizer/pre_tokenizer.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace ptune {
namespace {

std::vector<std::string> split(const char* name, std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view piece : PreTokenizer::create(name).split(text)) out.emplace_back(piece);
  return out;
}

using Pieces = std::vector<std::string>;

TEST(PreTokenizer, Gpt2KeepsDigitRunsAndTrailingSpaceRules) {
  EXPECT_EQ(split("gpt2", "Hello world  123 it's"),
            (Pieces{"Hello", " world", " ", " 123", " it", "'s"}));
  EXPECT_EQ(split("gpt2", "I'VE got 12345 apples!!\n\n  x"),
            (Pieces{"I", "'", "VE", " got", " 12345", " apples", "!!", "\n\n ", " x"}));
  EXPECT_EQ(split("gpt2", "a \tb\r\n\r\n  c  "),
            (Pieces{"a", " ", "\t", "b", "\r\n\r\n ", " c", "  "}));
  EXPECT_EQ(split("default", "don't  2024-01-02 \xC3\xBCmlaut"),
            (Pieces{"don", "'t", " ", " 2024", "-", "01", "-", "02", " \xC3\xBCmlaut"}));
}

TEST(PreTokenizer, SmollmIsolatesEveryDigitFirst) {
  EXPECT_EQ(split("smollm", "Hello world  123 it's"),
            (Pieces{"Hello", " world", "  ", "1", "2", "3", " it", "'s"}));
  EXPECT_EQ(split("smollm", "I'VE got 12345 apples!!\n\n  x"),
            (Pieces{"I", "'", "VE", " got", " ", "1", "2", "3", "4", "5", " apples", "!!", "\n\n ",
                    " x"}));
  EXPECT_EQ(split("smollm", "don't  2024-01-02"),
            (Pieces{"don", "'t", "  ", "2", "0", "2", "4", "-", "0", "1", "-", "0", "2"}));
  // Non-ASCII digits are \p{N} too (superscript two, Arabic-Indic three).
  EXPECT_EQ(split("smollm", "x\xC2\xB2\xD9\xA3"), (Pieces{"x", "\xC2\xB2", "\xD9\xA3"}));
}

TEST(PreTokenizer, Llama3GroupsDigitsByThreeAndFoldsContractionCase) {
  EXPECT_EQ(split("llama3", "Hello world  123 it's"),
            (Pieces{"Hello", " world", " ", " ", "123", " it", "'s"}));
  EXPECT_EQ(split("llama-bpe", "I'VE got 12345 apples!!\n\n  x"),
            (Pieces{"I", "'VE", " got", " ", "123", "45", " apples", "!!\n\n", " ", " x"}));
  EXPECT_EQ(split("llama3", "a \tb\r\n\r\n  c  "),
            (Pieces{"a", " ", "\tb", "\r\n\r\n", " ", " c", "  "}));
}

TEST(PreTokenizer, Qwen2SplitsSingleDigits) {
  EXPECT_EQ(
      split("qwen2", "I'VE got 12345 apples!!\n\n  x"),
      (Pieces{"I", "'VE", " got", " ", "1", "2", "3", "4", "5", " apples", "!!\n\n", " ", " x"}));
  EXPECT_EQ(split("qwen2", "don't  2024-01-02 \xC3\xBCmlaut"),
            (Pieces{"don", "'t", " ", " ", "2", "0", "2", "4", "-", "0", "1", "-", "0", "2",
                    " \xC3\xBCmlaut"}));
}

TEST(PreTokenizer, PiecesCoverInvalidUtf8) {
  const std::string text = "ab\xFF\xC3 cd\x80";
  std::string joined;
  for (const auto& p : split("smollm", text)) joined += p;
  EXPECT_EQ(joined, text);
}

TEST(PreTokenizer, LongWhitespaceRunIsOnePiece) {
  const std::string spaces(100000, ' ');
  EXPECT_EQ(split("smollm", spaces), (Pieces{spaces}));
  EXPECT_EQ(split("gpt2", spaces + "x"), (Pieces{std::string(99999, ' '), " x"}));
}

TEST(PreTokenizer, EmptyTextHasNoPieces) {
  EXPECT_TRUE(split("gpt2", "").empty());
}

TEST(PreTokenizer, UnknownNameListsSupported) {
  try {
    PreTokenizer::create("no-such-pre");
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("no-such-pre"), std::string::npos) << msg;
    EXPECT_NE(msg.find("smollm"), std::string::npos) << msg;
    EXPECT_NE(msg.find("llama3"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace ptune
