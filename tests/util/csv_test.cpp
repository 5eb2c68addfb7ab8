// util's CSV reader on its own: RFC 4180 quoting, line ends, line numbers of rows that span lines,
// and the errors (with the reader resynchronised after each).
#include "ptune/util/csv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ptune::util {
namespace {

using ::testing::HasSubstr;
using Fields = std::vector<std::string>;

TEST(Csv, QuotedFieldsAndEscapes) {
  const CsvTable t = parse_csv("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\n", "t.csv");
  EXPECT_EQ(t.header.fields, (Fields{"a", "b", "c"}));
  EXPECT_EQ(t.header.line, 1);
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0].fields, (Fields{"x, y", "say \"hi\"", ""}));
  EXPECT_EQ(t.rows[0].line, 2);
}

TEST(Csv, LineEndsAndMultiLineFields) {
  // CRLF, a lone CR, a quoted line break, a blank line, no final newline.
  const CsvTable t = parse_csv("h1,h2\r\n1,\"two\nlines\"\r3,4\n\n5,6", "t.csv");
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0].fields, (Fields{"1", "two\nlines"}));
  EXPECT_EQ(t.rows[0].line, 2);
  EXPECT_EQ(t.rows[1].line, 4);  // the quoted break took line 3
  EXPECT_EQ(t.rows[2].fields, (Fields{"5", "6"}));
  EXPECT_EQ(t.rows[2].line, 6);
}

TEST(Csv, OtherDelimitersAndStrayQuotes) {
  const CsvTable t = parse_csv("a\tb\nit's \"fine\"\t\"x\ty\"\n", "t.tsv", '\t');
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0].fields, (Fields{"it's \"fine\"", "x\ty"}));  // unquoted: kept literally
  EXPECT_EQ(parse_csv("a;b\n1;2\n", "t", ';').rows[0].fields, (Fields{"1", "2"}));
}

TEST(Csv, EmptyTextHasNoHeader) {
  CsvReader r("\n\n", "e.csv");
  EXPECT_FALSE(r.has_header());
  CsvRow row;
  EXPECT_FALSE(r.next(row));
  EXPECT_TRUE(parse_csv("", "e.csv").header.fields.empty());
}

std::string error_of(const std::string& text) {
  try {
    parse_csv(text, "bad.csv");
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

TEST(Csv, ErrorsNameTheRow) {
  EXPECT_THAT(error_of("a,b\n1,2\n3,\"open\n"), HasSubstr("bad.csv:3: unclosed quote"));
  EXPECT_THAT(error_of("a,b\n1,2\n3,\"open\n"), HasSubstr("opened at line 3, column 3"));
  EXPECT_THAT(error_of("a,b\n\"x\"y,2\n"), HasSubstr("bad.csv:2: unexpected character 'y'"));
  EXPECT_EQ(error_of("a,b\n1,2,3\n"), "bad.csv:2: expected 2 fields (as in the header), got 3");
}

TEST(Csv, ReaderGoesOnAfterABadRow) {
  CsvReader r("a,b\n\"x\"y,2\n1\n3,4\n", "bad.csv");
  CsvRow row;
  EXPECT_THROW(r.next(row), ParseError);  // misplaced quote: the rest of its line is skipped
  EXPECT_THROW(r.next(row), ParseError);  // one field
  ASSERT_TRUE(r.next(row));
  EXPECT_EQ(row.fields, (Fields{"3", "4"}));
  EXPECT_EQ(row.line, 4);
  EXPECT_FALSE(r.next(row));
}

}  // namespace
}  // namespace ptune::util
