// Exactness against Hugging Face: every corpus line must tokenize to the ids transformers gives
// for the same GGUF (tests/data/tokenizer, written by scripts/reference/tokenizer_corpus.py and
// make_tokenizer_golden.py), and decode(encode(s)) must give s back.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "ptune/io/gguf.h"
#include "ptune/tokenizer/tokenizer.h"
#include "test_util.h"

namespace ptune {
namespace {

using Ids = std::vector<int32_t>;

struct GoldenLine {
  std::string text;
  Ids ids;             // encode(text), default flags
  Ids ids_no_special;  // add_special = false (same as ids unless stored)
  bool has_split = false;
  Ids ids_split_special;  // parse_special = false, when the line has special text
};

std::vector<GoldenLine> load_golden() {
  std::ifstream corpus(test::data_path("tokenizer/corpus.jsonl"));
  std::ifstream golden(test::data_path("tokenizer/smollm2_ids.jsonl"));
  if (!corpus || !golden) throw std::runtime_error("tokenizer golden files missing");
  std::vector<GoldenLine> lines;
  std::string c, g;
  while (std::getline(corpus, c)) {
    if (!std::getline(golden, g)) throw std::runtime_error("golden file shorter than corpus");
    const auto cj = nlohmann::json::parse(c);
    const auto gj = nlohmann::json::parse(g);
    GoldenLine line;
    line.text = cj.at("text").get<std::string>();
    line.ids = gj.at("ids").get<Ids>();
    line.ids_no_special =
        gj.contains("ids_no_special") ? gj["ids_no_special"].get<Ids>() : line.ids;
    if (gj.contains("ids_split_special")) {
      line.has_split = true;
      line.ids_split_special = gj["ids_split_special"].get<Ids>();
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string show(const Ids& ids) {
  std::ostringstream s;
  for (size_t i = 0; i < ids.size(); ++i) s << (i ? "," : "") << ids[i];
  return s.str();
}

class SmolLM2Golden : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string model;
    if (!test::default_model(&model)) return;
    const gguf::GgufFile file = gguf::GgufFile::open(model);
    tok_ = new Tokenizer(Tokenizer::from_gguf(file));
    lines_ = new std::vector<GoldenLine>(load_golden());
  }
  static void TearDownTestSuite() {
    delete tok_;
    delete lines_;
    tok_ = nullptr;
    lines_ = nullptr;
  }
  void SetUp() override {
    if (tok_ == nullptr) {
      std::string model;
      if (!test::default_model(&model)) GTEST_SKIP() << "default model missing";
    }
  }
  // Counts lines where `actual(line)` differs from `expected(line)`, printing the first few.
  template <typename Expected, typename Actual>
  static void expect_all(const char* what, Expected expected, Actual actual) {
    size_t checked = 0, bad = 0;
    for (size_t i = 0; i < lines_->size(); ++i) {
      const GoldenLine& line = (*lines_)[i];
      const Ids* want = expected(line);
      if (want == nullptr) continue;
      ++checked;
      const Ids got = actual(line);
      if (got == *want) continue;
      if (++bad <= 5) {
        ADD_FAILURE() << what << " line " << i + 1 << " text=" << nlohmann::json(line.text).dump()
                      << "\n  want " << show(*want) << "\n  got  " << show(got);
      }
    }
    std::printf("[ golden   ] %s: %zu lines, %zu mismatches\n", what, checked, bad);
    EXPECT_EQ(bad, 0u) << what;
  }

  static Tokenizer* tok_;
  static std::vector<GoldenLine>* lines_;
};

Tokenizer* SmolLM2Golden::tok_ = nullptr;
std::vector<GoldenLine>* SmolLM2Golden::lines_ = nullptr;

TEST_F(SmolLM2Golden, SpecMatchesTheModel) {
  const VocabSpec& spec = tok_->spec();
  EXPECT_EQ(spec.pre, "smollm");
  EXPECT_EQ(tok_->n_vocab(), 49152);
  EXPECT_FALSE(spec.add_bos);
  EXPECT_EQ(tok_->token_id("<|im_start|>"), 1);
  EXPECT_EQ(tok_->token_id("<|im_end|>"), 2);
  EXPECT_TRUE(tok_->is_end_of_generation(2));
  EXPECT_TRUE(tok_->is_end_of_generation(0));
  EXPECT_FALSE(tok_->is_end_of_generation(1));
  EXPECT_NE(spec.chat_template.find("<|im_start|>"), std::string::npos);
  EXPECT_GE(lines_->size(), 2000u);
}

TEST_F(SmolLM2Golden, EncodeMatchesTransformers) {
  expect_all(
      "encode", [](const GoldenLine& l) { return &l.ids; },
      [&](const GoldenLine& l) { return tok_->encode(l.text); });
  expect_all(
      "encode add_special=false", [](const GoldenLine& l) { return &l.ids_no_special; },
      [&](const GoldenLine& l) { return tok_->encode(l.text, false); });
  expect_all(
      "encode parse_special=false",
      [](const GoldenLine& l) { return l.has_split ? &l.ids_split_special : nullptr; },
      [&](const GoldenLine& l) { return tok_->encode(l.text, false, false); });
}

// Byte-level BPE is lossless except for bytes the vocabulary cannot spell (SmolLM2 lacks a few
// control bytes such as 0x1D); those are dropped on encode, as in transformers.
TEST_F(SmolLM2Golden, DecodeRoundTrips) {
  std::string unspellable;
  for (int b = 0; b < 256; ++b) {
    const std::string byte(1, static_cast<char>(b));
    if (tok_->encode(byte, false, false).empty()) unspellable += byte;
  }
  std::printf("[ golden   ] %zu bytes have no token\n", unspellable.size());
  size_t bad = 0;
  for (size_t i = 0; i < lines_->size(); ++i) {
    std::string text = (*lines_)[i].text;
    const auto is_unspellable = [&](char c) { return unspellable.find(c) != std::string::npos; };
    text.erase(std::remove_if(text.begin(), text.end(), is_unspellable), text.end());
    for (bool parse_special : {true, false}) {
      const std::string back = tok_->decode(tok_->encode((*lines_)[i].text, true, parse_special));
      if (back != text && ++bad <= 5) {
        ADD_FAILURE() << "line " << i + 1 << " parse_special=" << parse_special << " "
                      << nlohmann::json(text).dump() << " -> " << nlohmann::json(back).dump();
      }
    }
  }
  EXPECT_EQ(bad, 0u);
}

TEST_F(SmolLM2Golden, SkipSpecialDropsChatMarkers) {
  const Ids ids = tok_->encode("<|im_start|>user\nhi<|im_end|>\n");
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(tok_->decode(ids, /*skip_special=*/true), "user\nhi\n");
}

}  // namespace
}  // namespace ptune
