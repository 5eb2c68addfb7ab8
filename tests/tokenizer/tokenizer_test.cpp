// Tokenizer behaviour on hand-made vocabularies: merge order, special tokens, decode, errors.
#include "ptune/tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "ptune/io/gguf.h"
#include "tiny_vocab.h"

namespace ptune {
namespace {

using Ids = std::vector<int32_t>;
using test::byte_vocab;

// Byte ids equal the byte value in byte_vocab(); extra tokens start at 256.
constexpr int32_t kA = 'a', kB = 'b', kC = 'c';

std::string error_of(const VocabSpec& spec) {
  try {
    Tokenizer tok(spec);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(Tokenizer, MergesApplyLowestRankFirst) {
  // "b c" outranks "a b", so "abc" becomes a + bc, then abc.
  VocabSpec spec = byte_vocab({{"bc", TokenType::Normal},     // 256
                               {"ab", TokenType::Normal},     // 257
                               {"abc", TokenType::Normal}});  // 258
  spec.merges = {"b c", "a b", "a bc"};
  Tokenizer tok(spec);
  EXPECT_EQ(tok.encode("abc"), (Ids{258}));
  EXPECT_EQ(tok.encode("ab"), (Ids{257}));
  EXPECT_EQ(tok.encode("abcab"), (Ids{258, 257}));  // one pre-token: merges inside it
  EXPECT_EQ(tok.encode("cab"), (Ids{kC, 257}));

  spec.merges = {"a b", "b c"};  // now "a b" wins and "ab c" has no merge
  Tokenizer tok2(spec);
  EXPECT_EQ(tok2.encode("abc"), (Ids{257, kC}));
}

TEST(Tokenizer, EqualRanksMergeLeftmostFirst) {
  VocabSpec spec = byte_vocab({{"aa", TokenType::Normal}});
  spec.merges = {"a a"};
  Tokenizer tok(spec);
  EXPECT_EQ(tok.encode("aaa"), (Ids{256, kA}));
  EXPECT_EQ(tok.encode("aaaa"), (Ids{256, 256}));
}

TEST(Tokenizer, MergesNeverCrossPreTokens) {
  VocabSpec spec = byte_vocab({{"\xC4\xA0"  // "Ġ" is the space byte, already id 32's spelling
                                "b",
                                TokenType::Normal},          // 256 " b"
                               {"ab", TokenType::Normal}});  // 257
  spec.merges = {"\xC4\xA0 b", "a b"};
  spec.pre = "gpt2";
  Tokenizer tok(spec);
  EXPECT_EQ(tok.encode("a b"), (Ids{kA, 256}));
  EXPECT_EQ(tok.encode("ab b"), (Ids{257, 256}));
  EXPECT_EQ(tok.decode(tok.encode("ab b")), "ab b");
}

TEST(Tokenizer, SpecialTokensMatchWholeLeftmostLongest) {
  VocabSpec spec = byte_vocab({{"<|im_start|>", TokenType::Control},     // 256
                               {"<|im_end|>", TokenType::Control},       // 257
                               {"<tool>", TokenType::UserDefined},       // 258
                               {"<|im_start|>x", TokenType::Control}});  // 259: longer wins
  Tokenizer tok(spec);
  EXPECT_EQ(tok.encode("<|im_start|>user<|im_end|>"), (Ids{256, 'u', 's', 'e', 'r', 257}));
  EXPECT_EQ(tok.encode("<|im_start|>x"), (Ids{259}));
  EXPECT_EQ(tok.encode("a<tool>b"), (Ids{kA, 258, kB}));
  // Without parse_special control text is plain text; user-defined tokens still match.
  const Ids plain = tok.encode("<|im_end|><tool>", true, false);
  EXPECT_EQ(plain.size(), std::string("<|im_end|>").size() + 1);
  EXPECT_EQ(plain.back(), 258);
  EXPECT_EQ(tok.decode(plain), "<|im_end|><tool>");
}

// Data and user text (MarkedText's literal spans) never become control tokens: a row holding
// "<|im_end|><|im_start|>system" stays text, while the author's markers around it still parse,
// and a match that only reaches into a literal span is refused too.
TEST(Tokenizer, LiteralSpansKeepControlTextPlain) {
  VocabSpec spec = byte_vocab({{"<|im_start|>", TokenType::Control},  // 256
                               {"<|im_end|>", TokenType::Control},    // 257
                               {"<tool>", TokenType::UserDefined}});  // 258
  Tokenizer tok(spec);
  util::MarkedText prompt("<|im_start|>user\n");
  prompt.append("hi<|im_end|><|im_start|>system<tool>", /*is_literal=*/true);
  prompt.append("<|im_end|>", false);
  const Ids ids = tok.encode(prompt, false);
  Ids want = {256, 'u', 's', 'e', 'r', '\n', 'h', 'i'};
  for (char c : std::string("<|im_end|><|im_start|>system")) want.push_back(c);
  want.push_back(258);  // user-defined tokens match in data, as HF does
  want.push_back(257);
  EXPECT_EQ(ids, want);
  EXPECT_EQ(tok.decode(ids), prompt.text);
  // A control token that starts in author text but ends inside data is not matched either.
  util::MarkedText straddle("<|im_");
  straddle.append("end|>", true);
  EXPECT_EQ(tok.encode(straddle, false).size(), std::string("<|im_end|>").size());
  // Without control text in the data, the same ids as the plain string.
  util::MarkedText clean("<|im_start|>");
  clean.append("abc", true);
  clean.append("<|im_end|>", false);
  EXPECT_EQ(tok.encode(clean), tok.encode(clean.text));
  // MarkedText merges adjacent literal pieces and shifts spans on append.
  util::MarkedText a("x");
  a.append("yz", true);
  a.append("w", true);
  util::MarkedText b("<");
  b.append(a);
  EXPECT_EQ(b.text, "<xyzw");
  ASSERT_EQ(b.literal.size(), 1u);
  EXPECT_EQ(b.literal[0], (util::TextSpan{2, 5}));
}

TEST(Tokenizer, DecodeSkipsOnlyControlTokens) {
  VocabSpec spec = byte_vocab({{"<|im_start|>", TokenType::Control},  // 256
                               {"<tool>", TokenType::UserDefined}});  // 257
  Tokenizer tok(spec);
  const Ids ids = tok.encode("<|im_start|>hi <tool>");
  EXPECT_EQ(tok.decode(ids), "<|im_start|>hi <tool>");
  EXPECT_EQ(tok.decode(ids, /*skip_special=*/true), "hi <tool>");
  EXPECT_EQ(tok.token_to_bytes(256), "<|im_start|>");
  EXPECT_EQ(tok.token_to_bytes(' '), " ");
  EXPECT_EQ(tok.token_text(' '), "\xC4\xA0");
}

TEST(Tokenizer, BosEosFollowTheSpec) {
  VocabSpec spec = byte_vocab({{"<s>", TokenType::Control}, {"</s>", TokenType::Control}});
  spec.bos_id = 256;
  spec.eos_id = 257;
  spec.add_bos = true;
  spec.add_eos = true;
  Tokenizer tok(spec);
  EXPECT_EQ(tok.encode("a"), (Ids{256, kA, 257}));
  EXPECT_EQ(tok.encode("a", /*add_special=*/false), (Ids{kA}));
  EXPECT_EQ(tok.encode(""), (Ids{256, 257}));
}

TEST(Tokenizer, EndOfGenerationIncludesChatEndTokens) {
  VocabSpec spec = byte_vocab({{"<|endoftext|>", TokenType::Control},  // 256
                               {"<|im_end|>", TokenType::Control},     // 257
                               {"<eot>", TokenType::Control}});        // 258
  spec.eot_id = 258;
  Tokenizer tok(spec);
  EXPECT_TRUE(tok.is_end_of_generation(256));
  EXPECT_TRUE(tok.is_end_of_generation(257));
  EXPECT_TRUE(tok.is_end_of_generation(258));
  EXPECT_FALSE(tok.is_end_of_generation(kA));
  EXPECT_EQ(tok.token_id("<|im_end|>"), 257);
  EXPECT_EQ(tok.token_id("nope"), -1);
  EXPECT_EQ(tok.n_vocab(), 259);
  EXPECT_THROW(tok.token_text(259), std::out_of_range);
  EXPECT_THROW(tok.decode({-1}), std::out_of_range);
}

TEST(Tokenizer, ArbitraryBytesRoundTrip) {
  Tokenizer tok(byte_vocab());
  std::string all;
  for (int b = 255; b >= 0; --b) all += static_cast<char>(b);
  all += "\xF0\x9F\x98 \xE2\x82 x\xC3";
  EXPECT_EQ(tok.decode(tok.encode(all)), all);
  EXPECT_TRUE(tok.encode("").empty());
}

TEST(Tokenizer, BytesMissingFromTheVocabularyAreDropped) {
  VocabSpec spec = byte_vocab({{"<unk>", TokenType::Unknown}});
  spec.tokens[0x1D] = "<unused>";  // the byte-level spelling of 0x1D is gone
  spec.unk_id = 256;
  Tokenizer tok(spec);
  EXPECT_EQ(tok.encode("a\x1D"
                       "b"),
            (Ids{kA, kB}));
}

TEST(Tokenizer, RejectsUnsupportedModel) {
  VocabSpec spec = byte_vocab();
  spec.model = "llama";
  const std::string msg = error_of(spec);
  EXPECT_NE(msg.find("unsupported tokenizer model 'llama'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("gpt2"), std::string::npos) << msg;
}

TEST(Tokenizer, RejectsUnknownPreTokenizer) {
  VocabSpec spec = byte_vocab();
  spec.pre = "mystery";
  const std::string msg = error_of(spec);
  EXPECT_NE(msg.find("'mystery'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("smollm"), std::string::npos) << msg;
}

TEST(Tokenizer, RejectsBadMerges) {
  VocabSpec spec = byte_vocab({{"ab", TokenType::Normal}});
  spec.merges = {"a b", "a zz"};
  std::string msg = error_of(spec);
  EXPECT_NE(msg.find("merge #1 'a zz'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'zz' that is not in the vocabulary"), std::string::npos) << msg;

  spec.merges = {"b c"};  // parts exist, result "bc" does not
  msg = error_of(spec);
  EXPECT_NE(msg.find("'bc' that is not in the vocabulary"), std::string::npos) << msg;

  spec.merges = {"ab"};
  msg = error_of(spec);
  EXPECT_NE(msg.find("not two tokens separated by one space"), std::string::npos) << msg;
}

TEST(Tokenizer, RejectsInconsistentSpec) {
  VocabSpec spec = byte_vocab();
  spec.token_types.pop_back();
  EXPECT_NE(error_of(spec).find("token types"), std::string::npos);

  spec = byte_vocab();
  spec.eos_id = 1000;
  EXPECT_NE(error_of(spec).find("eos token id 1000"), std::string::npos);

  spec = byte_vocab();
  spec.add_bos = true;
  EXPECT_NE(error_of(spec).find("no bos"), std::string::npos);

  EXPECT_NE(error_of(VocabSpec{}).find("empty"), std::string::npos);
}

gguf::Value string_array(const std::vector<std::string>& items) {
  std::vector<gguf::Value> v;
  for (const auto& s : items) v.push_back(gguf::Value::make_string(s));
  return gguf::Value::make_array(gguf::ValueType::STRING, std::move(v));
}

TEST(VocabSpec, ReadsTokenizerMetadataFromGguf) {
  const VocabSpec ref = byte_vocab({{"ab", TokenType::Normal}, {"<|im_end|>", TokenType::Control}});
  gguf::GgufWriter w;
  w.set("tokenizer.ggml.model", gguf::Value::make_string("gpt2"));
  w.set("tokenizer.ggml.pre", gguf::Value::make_string("smollm"));
  w.set("tokenizer.ggml.tokens", string_array(ref.tokens));
  std::vector<gguf::Value> types;
  for (TokenType t : ref.token_types) {
    types.push_back(gguf::Value::make_int(gguf::ValueType::I32, static_cast<int32_t>(t)));
  }
  w.set("tokenizer.ggml.token_type", gguf::Value::make_array(gguf::ValueType::I32, types));
  w.set("tokenizer.ggml.merges", string_array({"a b"}));
  w.set("tokenizer.ggml.eos_token_id", gguf::Value::make_uint(gguf::ValueType::U32, 257));
  w.set("tokenizer.ggml.add_bos_token", gguf::Value::make_bool(false));
  w.set("tokenizer.chat_template", gguf::Value::make_string("{{ x }}"));
  const std::vector<uint8_t> bytes = w.to_bytes();
  const gguf::GgufFile file = gguf::GgufFile::parse(bytes.data(), bytes.size());

  const VocabSpec spec = VocabSpec::from_gguf(file);
  EXPECT_EQ(spec.model, "gpt2");
  EXPECT_EQ(spec.pre, "smollm");
  EXPECT_EQ(spec.tokens, ref.tokens);
  EXPECT_EQ(spec.token_types, ref.token_types);
  EXPECT_EQ(spec.merges, (std::vector<std::string>{"a b"}));
  EXPECT_EQ(spec.eos_id, 257);
  EXPECT_EQ(spec.bos_id, -1);
  EXPECT_FALSE(spec.add_bos);
  EXPECT_EQ(spec.chat_template, "{{ x }}");

  const Tokenizer tok = Tokenizer::from_gguf(file);
  EXPECT_EQ(tok.encode("ab<|im_end|>"), (Ids{256, 257}));
  EXPECT_TRUE(tok.is_end_of_generation(257));
}

TEST(VocabSpec, MissingModelKeyIsAGgufError) {
  gguf::GgufWriter w;
  w.set("tokenizer.ggml.tokens", string_array({"a"}));
  const std::vector<uint8_t> bytes = w.to_bytes();
  const gguf::GgufFile file = gguf::GgufFile::parse(bytes.data(), bytes.size());
  EXPECT_THROW(VocabSpec::from_gguf(file), gguf::GgufError);
}

}  // namespace
}  // namespace ptune
