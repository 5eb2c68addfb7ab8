// util::parse_json_strict: what it accepts like nlohmann, and the repeated keys, invalid text and
// deep nesting it refuses with a position and the key's path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "ptune/util/json.h"

namespace ptune::util {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;
using ::testing::HasSubstr;

JsonSyntaxError error_of(const std::string& text, int max_depth = kNoJsonDepthLimit) {
  try {
    parse_json_strict(text, max_depth);
  } catch (const JsonSyntaxError& e) {
    return e;
  }
  ADD_FAILURE() << "accepted: " << text;
  return JsonSyntaxError(0, 0, 0, "");
}

TEST(StrictJson, ParsesLikeNlohmann) {
  const std::string text =
      R"({"a": {"x": 1, "y": [1, {"x": 2}, {"x": 3, "y": null}]}, "b": {"x": "s"}, "x": true})";
  EXPECT_EQ(parse_json_strict(text), json::parse(text));
  EXPECT_EQ(parse_json_strict("[]"), json::array());
  EXPECT_EQ(parse_json_strict(" 7 "), json(7));
}

TEST(StrictJson, OrderedKeepsOrder) {
  const auto j = parse_json_strict<ordered_json>(R"({"z": 1, "a": {"z": 2}})");
  EXPECT_EQ(j.dump(), R"({"z":1,"a":{"z":2}})");
}

TEST(StrictJson, SameKeyInDifferentObjectsIsFine) {
  EXPECT_NO_THROW(parse_json_strict(R"([{"k": 1}, {"k": 2}, {"k": {"k": {"k": 3}}}])"));
  EXPECT_NO_THROW(parse_json_strict(R"({"k": {"k": 1}, "j": {"k": 2}})"));
  // A key inside a value does not count for the object around it.
  EXPECT_NO_THROW(parse_json_strict(R"({"a": {"b": 1}, "b": 2})"));
}

TEST(StrictJson, DuplicateAtTopLevel) {
  const auto e = error_of("{\n  \"type\": \"qa\",\n  \"type\": \"classification\"\n}");
  EXPECT_EQ(e.key(), "type");
  EXPECT_EQ(e.object_path(), "");
  EXPECT_EQ(e.line(), 3u);
  EXPECT_EQ(e.column(), 3u);
  EXPECT_EQ(std::string(e.what()),
            "line 3, column 3: duplicate key \"type\" in the top-level object");
}

TEST(StrictJson, DuplicateAtDepthNamesItsPath) {
  const std::string text = R"({"labels": {"positive": "good", "positive": "bad"}})";
  const auto e = error_of(text);
  EXPECT_EQ(e.key(), "positive");
  EXPECT_EQ(e.object_path(), "labels");
  EXPECT_EQ(e.byte(), text.rfind("\"positive\""));
  EXPECT_THAT(e.what(), HasSubstr("duplicate key \"positive\" in object \"labels\""));

  const auto deep = error_of(R"({"data": [{"m": 1}, {"m": {"a": 1, "b": [], "a": 2}}]})");
  EXPECT_EQ(deep.key(), "a");
  EXPECT_EQ(deep.object_path(), "data[1].m");
  // Escaped quotes and colons inside strings do not confuse the position.
  const std::string tricky = R"({"s": "a\":b", "t": {"\"": 1, "\"": 2}})";
  EXPECT_EQ(error_of(tricky).byte(), tricky.rfind(R"("\"")"));
}

TEST(StrictJson, DuplicateInTruncatedText) {
  // The parser reaches the second key before it finds the text cut short.
  EXPECT_EQ(error_of(R"({"a": 1, "a")").key(), "a");
}

TEST(StrictJson, InvalidJsonHasPosition) {
  const auto e = error_of("{\n  \"a\" 1\n}");
  EXPECT_EQ(e.line(), 2u);
  EXPECT_EQ(e.column(), 7u);
  EXPECT_EQ(e.byte(), 8u);
  EXPECT_TRUE(e.key().empty());
  EXPECT_THAT(e.what(), HasSubstr("line 2, column 7: syntax error"));
  EXPECT_THAT(error_of("").reason(), HasSubstr("unexpected end of input"));
  EXPECT_THAT(error_of("{} x").reason(), HasSubstr("expected end of input"));
  // nlohmann reports a number out of double's range without a position; it is found.
  const auto big = error_of(R"({"a": "1e999", "b": 1e999})");
  EXPECT_EQ(big.reason(), "number overflow parsing '1e999'");
  EXPECT_EQ(big.byte(), 20u);
}

TEST(StrictJson, DepthLimit) {
  EXPECT_NO_THROW(parse_json_strict(R"({"a": [[1]]})", 3));
  const std::string text = R"({"a": [[[1]]]})";
  const auto e = error_of(text, 3);
  EXPECT_EQ(e.reason(), "nests deeper than 3 levels");
  EXPECT_EQ(e.byte(), 8u);
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "[";
  EXPECT_EQ(error_of(deep, 8).byte(), 8u);
}

}  // namespace
}  // namespace ptune::util
