#include "ptune/tasks/dataset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ptune/tasks/errors.h"
#include "ptune/util/files.h"
#include "test_util.h"

namespace ptune::tasks {
namespace {

using ::testing::HasSubstr;

std::string data(const std::string& name) {
  return test::data_path("tasks/" + name);
}

LoadOptions with_format(FileFormat f) {
  LoadOptions o;
  o.format = f;
  return o;
}

// Runs `fn`, expecting a DataError whose message names file, line and (when given) field.
template <typename Fn>
DataError expect_data_error(Fn&& fn, const std::string& file, int64_t line,
                            const std::string& field) {
  try {
    fn();
  } catch (const DataError& e) {
    EXPECT_THAT(e.file(), HasSubstr(file));
    EXPECT_EQ(e.line(), line);
    EXPECT_EQ(e.field(), field);
    EXPECT_THAT(std::string(e.what()), HasSubstr(file));
    if (line > 0) {
      EXPECT_THAT(std::string(e.what()), HasSubstr(":" + std::to_string(line) + ":"));
    }
    if (!field.empty()) {
      EXPECT_THAT(std::string(e.what()), HasSubstr("'" + field + "'"));
    }
    return e;
  }
  ADD_FAILURE() << "expected a DataError";
  return DataError("", 0, "", "");
}

// Sizes are bounded: a JSONL line or CSV field past 8 MiB is refused naming its line, and a
// folder given as a data file says so (it used to read as an empty split).
TEST(Bounds, HugeLinesAndFieldsAndFoldersAreRefused) {
  const std::string huge(util::kMaxLineBytes + 1, 'x');
  const std::string jsonl = "{\"text\": \"a\", \"label\": \"b\"}\n{\"text\": \"" + huge + "\"}\n";
  const DataError j = expect_data_error(
      [&] { parse_examples(jsonl, "m.jsonl", with_format(FileFormat::Jsonl)); }, "m.jsonl", 2, "");
  EXPECT_THAT(std::string(j.what()), HasSubstr("MiB a data row may have"));
  const std::string csv = "text,label\n" + huge + ",b\n";
  const DataError c = expect_data_error(
      [&] { parse_examples(csv, "m.csv", with_format(FileFormat::Csv)); }, "m.csv", 2, "");
  EXPECT_THAT(std::string(c.what()), HasSubstr("MiB, the most a data field may have"));
  const std::string quoted = "text,label\n\"" + huge + "\",b\n";
  EXPECT_THROW(parse_examples(quoted, "m.csv", with_format(FileFormat::Csv)), DataError);
  try {
    load_examples(test::data_path("tasks"), with_format(FileFormat::Jsonl));
    ADD_FAILURE() << "a folder read as data";
  } catch (const DataError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("is a folder"));
  }
}

TEST(Csv, QuotedFieldsCrlfAndBom) {
  LoadReport report;
  const auto rows = load_examples(data("reviews.csv"), {}, &report);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].get("id"), "1");  // the BOM is not part of the first column name
  EXPECT_EQ(rows[0].get("review"), "Great phone, would buy again");
  EXPECT_EQ(rows[1].get("review"), "He said \"meh\" and left");
  EXPECT_EQ(rows[2].get("review"), "Line one\r\nline two");
  EXPECT_EQ(rows[3].get("review"), "plain text");
  EXPECT_EQ(rows[2].line, 4);
  EXPECT_EQ(rows[3].line, 6);  // the quoted newline moved it down a line
  EXPECT_EQ(report.rows, 4u);
  EXPECT_EQ(report.loaded, 4u);
  EXPECT_EQ(report.skipped, 0u);
}

TEST(Csv, FieldMappingRenamesAndChecksColumns) {
  LoadOptions o;
  o.mapping = {{"text", {{"review"}}}, {"label", {{"sentiment"}}}};
  const auto rows = load_examples(data("reviews.csv"), o);
  EXPECT_EQ(rows[0].fields.size(), 2u);
  EXPECT_EQ(rows[0].get("text"), "Great phone, would buy again");
  EXPECT_EQ(rows[0].get("label"), "pos");

  o.mapping = {{"text", {{"body"}}}};
  const auto e =
      expect_data_error([&] { load_examples(data("reviews.csv"), o); }, "reviews.csv", 1, "text");
  EXPECT_THAT(e.what(), HasSubstr("column 'body' is not in the header"));
}

TEST(Csv, UnclosedQuoteNamesTheRow) {
  const auto e =
      expect_data_error([&] { load_examples(data("unclosed.csv"), {}); }, "unclosed.csv", 3, "");
  EXPECT_THAT(e.what(), HasSubstr("unclosed quote"));
}

TEST(Csv, SkipBadCountsTheUnclosedRow) {
  LoadOptions o;
  o.skip_bad = true;
  LoadReport report;
  const auto rows = load_examples(data("unclosed.csv"), o, &report);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(report.skipped, 1u);
  EXPECT_EQ(report.rows, 2u);
  ASSERT_EQ(report.reasons.size(), 1u);
  EXPECT_THAT(report.reasons[0], HasSubstr("unclosed.csv:3"));
}

TEST(Csv, WrongFieldCountAndStrayQuote) {
  const std::string text = "a,b\n1,2\n1,2,3\n\"x\"y,2\n4,5\n";
  expect_data_error([&] { parse_examples(text, "m.csv", with_format(FileFormat::Csv)); }, "m.csv",
                    3, "");
  LoadOptions o = with_format(FileFormat::Csv);
  o.skip_bad = true;
  LoadReport report;
  const auto rows = parse_examples(text, "m.csv", o, &report);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].get("a"), "4");
  EXPECT_EQ(rows[1].line, 5);
  EXPECT_EQ(report.skipped, 2u);
  EXPECT_THAT(report.reasons[1], HasSubstr("after a closing quote"));
}

TEST(Csv, InvalidUtf8NamesTheField) {
  const auto e = expect_data_error([&] { load_examples(data("bad_utf8.csv"), {}); }, "bad_utf8.csv",
                                   3, "text");
  EXPECT_THAT(e.what(), HasSubstr("invalid UTF-8 at byte 3"));
}

TEST(Csv, BlankLinesAndMissingTrailingNewline) {
  const auto rows = parse_examples("a,b\n\n1,2\n\n3,\"\"", "m.csv", with_format(FileFormat::Csv));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].get("b"), "");
  EXPECT_EQ(rows[1].line, 5);
}

TEST(Csv, ListFieldFromSeveralColumns) {
  LoadOptions o = with_format(FileFormat::Csv);
  o.mapping = {{"choices", {{"A", "B", "C"}}}, {"label", {{"gold"}}}};
  const auto rows = parse_examples("q,A,B,C,gold\nwhy,x,y,z,1\n", "m.csv", o);
  EXPECT_EQ(rows[0].get_list("choices"), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(rows[0].get_list("label"), (std::vector<std::string>{"1"}));
}

TEST(Tsv, TabsAndQuotedTabs) {
  const auto rows = load_examples(data("reviews.tsv"), {});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].get("text"), "soft, warm");
  EXPECT_EQ(rows[1].get("text"), "tab\there");
}

TEST(Jsonl, MalformedLineNamesFileAndLine) {
  const auto e =
      expect_data_error([&] { load_examples(data("bad.jsonl"), {}); }, "bad.jsonl", 3, "");
  EXPECT_THAT(e.what(), HasSubstr("invalid JSON at column"));
}

TEST(Jsonl, SkipBadKeepsCounting) {
  LoadOptions o;
  o.skip_bad = true;
  LoadReport report;
  const auto rows = load_examples(data("bad.jsonl"), o, &report);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].line, 4);  // blank line 2 still counts as a line
  EXPECT_EQ(report.rows, 3u);
  EXPECT_EQ(report.skipped, 1u);
  EXPECT_EQ(report.loaded, 2u);
}

TEST(Jsonl, MissingMappedFieldNamesTheField) {
  LoadOptions o;
  o.mapping = {{"text", {{"text"}}}, {"label", {{"label"}}}};
  const auto e = expect_data_error([&] { load_examples(data("missing_label.jsonl"), o); },
                                   "missing_label.jsonl", 2, "label");
  EXPECT_THAT(e.what(), HasSubstr("missing"));
  o.mapping["label"].optional = true;
  EXPECT_EQ(load_examples(data("missing_label.jsonl"), o).size(), 2u);
}

TEST(Jsonl, DottedPathsAndArrays) {
  LoadOptions o;
  o.mapping = {{"text", {{"body.text"}}},
               {"label", {{"meta.sentiment"}}},
               {"answer", {{"answers"}}},
               {"first", {{"answers.0"}}},
               {"id", {{"id"}}}};
  const auto rows = load_examples(data("nested.jsonl"), o);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].get("text"), "nice");
  EXPECT_EQ(rows[0].get("label"), "pos");
  EXPECT_EQ(rows[0].get("id"), "1");  // numbers keep their JSON spelling
  EXPECT_EQ(rows[0].get_list("answer"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(rows[0].get("first"), "a");
  // An object where a string is expected is an error, not "[object]" in a prompt.
  o.mapping = {{"text", {{"body"}}}};
  expect_data_error([&] { load_examples(data("nested.jsonl"), o); }, "nested.jsonl", 1, "text");
}

TEST(Jsonl, NonObjectLineAndInvalidUtf8) {
  expect_data_error([&] { parse_examples("[1, 2]\n", "m.jsonl", with_format(FileFormat::Jsonl)); },
                    "m.jsonl", 1, "");
  const auto e = expect_data_error(
      [&] {
        parse_examples("{\"a\": \"x\"}\n{\"a\": \"\xff\"}\n", "m.jsonl",
                       with_format(FileFormat::Jsonl));
      },
      "m.jsonl", 2, "");
  EXPECT_THAT(e.what(), HasSubstr("invalid UTF-8 at column 8"));
}

TEST(Jsonl, DuplicateFieldIsAnError) {
  // {"label": "pos", ..., "label": "neg"} would otherwise load as "neg" without a word.
  const auto e = expect_data_error(
      [&] {
        parse_examples(
            "{\"text\": \"a\", \"label\": \"pos\"}\n"
            "{\"text\": \"b\", \"label\": \"pos\", \"label\": \"neg\"}\n",
            "m.jsonl", with_format(FileFormat::Jsonl));
      },
      "m.jsonl", 2, "");
  EXPECT_THAT(e.what(), HasSubstr("invalid JSON at column 31: duplicate key \"label\""));
  // Nested too, and skip_bad skips the row like any other invalid line.
  LoadOptions o = with_format(FileFormat::Jsonl);
  o.skip_bad = true;
  LoadReport report;
  const auto rows =
      parse_examples("{\"a\": {\"b\": 1, \"b\": 2}}\n{\"a\": \"x\"}\n", "m.jsonl", o, &report);
  EXPECT_EQ(rows.size(), 1u);
  EXPECT_EQ(report.skipped, 1u);
}

TEST(Jsonl, CrlfAndBom) {
  const auto rows = parse_examples("\xEF\xBB\xBF{\"a\": \"x\"}\r\n{\"a\": \"y\"}\r\n", "m.jsonl",
                                   with_format(FileFormat::Jsonl));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].get("a"), "y");
}

TEST(Dataset, FormatFromExtensionAndMissingFile) {
  EXPECT_EQ(format_from_path("x/y.JSONL"), FileFormat::Jsonl);
  EXPECT_EQ(format_from_path("y.tsv"), FileFormat::Tsv);
  EXPECT_THROW(format_from_path("y.txt"), std::invalid_argument);
  expect_data_error([&] { load_examples(data("nope.csv"), {}); }, "nope.csv", 0, "");
}

TEST(Dataset, ExampleGetNamesLocation) {
  Example ex;
  ex.source = "f.jsonl";
  ex.line = 7;
  const auto e = expect_data_error([&] { ex.get("question"); }, "f.jsonl", 7, "question");
  EXPECT_EQ(ex.location(), "f.jsonl:7");
}

}  // namespace
}  // namespace ptune::tasks
