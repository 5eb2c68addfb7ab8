#include "ptune/tasks/template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ptune/tasks/errors.h"

namespace ptune::tasks {
namespace {

using ::testing::HasSubstr;

Example make(std::map<std::string, std::string> fields) {
  Example ex;
  ex.fields = std::move(fields);
  ex.source = "rows.jsonl";
  ex.line = 12;
  return ex;
}

// Parses `source` expecting a TemplateError at `offset`; returns its message.
std::string parse_error(const std::string& source, size_t offset) {
  try {
    Template::parse(source, "t");
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.offset(), offset) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected a TemplateError for: " << source;
  return "";
}

TEST(Template, RendersFieldsInstructionAndEscapes) {
  const auto t = Template::parse("{instruction}\n{{json}}: {text} -> {label}}}", "t");
  TemplateContext ctx;
  ctx.instruction = "Classify.";
  const auto out = t.render(make({{"text", "hi"}, {"label", "pos"}}), ctx);
  ASSERT_EQ(out.segments.size(), 1u);
  EXPECT_EQ(out.text(), "Classify.\n{json}: hi -> pos}");
  EXPECT_EQ(t.fields(), (std::vector<std::string>{"text", "label"}));
  EXPECT_TRUE(t.uses("instruction"));
  EXPECT_FALSE(t.uses("demos"));
}

TEST(Template, SoftSlotsBecomeSegments) {
  const auto t = Template::parse("{soft:4}Q: {q}{soft:mid:2} A:{soft:4}{soft:tail}", "t");
  const auto out = t.render(make({{"q", "why?"}}), {});
  ASSERT_EQ(out.segments.size(), 6u);
  EXPECT_EQ(out.segments[0], (Segment{Segment::Kind::Soft, "", "prompt", 4, {}}));
  EXPECT_EQ(out.segments[1], (Segment{Segment::Kind::Text, "Q: why?", "", 0, {}}));
  EXPECT_EQ(out.segments[2], (Segment{Segment::Kind::Soft, "", "mid", 2, {}}));
  EXPECT_EQ(out.segments[3].text, " A:");
  EXPECT_EQ(out.segments[4], (Segment{Segment::Kind::Soft, "", "prompt", 4, {}}));  // shared
  EXPECT_EQ(out.segments[5].soft_name, "tail");
  EXPECT_TRUE(out.has_soft());
  EXPECT_EQ(out.display(), "<soft:prompt:4>Q: why?<soft:mid:2> A:<soft:prompt:4><soft:tail:0>");
  EXPECT_THROW(out.text(), std::logic_error);
}

TEST(Template, DemosBlockIsSpliced) {
  RenderedPrompt demos;
  demos.append_text("Review: a\nSentiment: positive\n\n");
  const auto t = Template::parse("{soft:2}{demos}Review: {text}\nSentiment:", "t");
  TemplateContext ctx;
  ctx.demos = &demos;
  const auto out = t.render(make({{"text", "b"}}), ctx);
  ASSERT_EQ(out.segments.size(), 2u);
  EXPECT_EQ(out.segments[1].text, "Review: a\nSentiment: positive\n\nReview: b\nSentiment:");
}

// What came from the example (fields, lists, {target}) is marked literal, the template's text
// and the instruction are not; splicing a demo block keeps its marks at their new offsets.
TEST(Template, DataIsMarkedLiteral) {
  const auto demo = Template::parse("Q: {q} A: {target}\n", "demo");
  const std::string target = "yes";
  TemplateContext dctx{"", nullptr, &target};
  RenderedPrompt demos = demo.render(make({{"q", "<|im_end|>"}}), dctx);
  const auto t = Template::parse("{instruction}|{demos}Q: {q}{choices} A:", "t");
  TemplateContext ctx;
  ctx.instruction = "Do <|x|>.";
  ctx.demos = &demos;
  Example ex = make({{"q", "hi"}});
  ex.lists["choices"] = {"a", "b"};
  const util::MarkedText m = t.render(ex, ctx).marked();
  EXPECT_EQ(m.text, "Do <|x|>.|Q: <|im_end|> A: yes\nQ: hia\nb A:");
  auto at = [&](const std::string& s) { return m.text.find(s); };
  const size_t q_demo = at("<|im_end|>"), yes = at("yes"), hi = at("hia");
  EXPECT_EQ(m.literal,
            (std::vector<util::TextSpan>{
                {q_demo, q_demo + 10}, {yes, yes + 3}, {hi, hi + 5}}));  // "hi" + "a\nb" adjacent
}

TEST(Template, ListFieldsRenderOnePerLine) {
  Example ex = make({});
  ex.lists["choices"] = {"A. red", "B. blue"};
  EXPECT_EQ(Template::parse("{choices}").render(ex, {}).text(), "A. red\nB. blue");
}

TEST(Template, UnclosedBraceReportsPositionWithCaret) {
  const std::string msg = parse_error("Review: {text\nSentiment:", 8);
  EXPECT_THAT(msg, HasSubstr("template 't' at offset 8 (line 1, column 9)"));
  EXPECT_THAT(msg, HasSubstr("unclosed '{'"));
  EXPECT_THAT(parse_error("{soft}{soft:3}", 6), HasSubstr("two different lengths"));
}

TEST(Template, UnclosedBraceAtEnd) {
  const std::string msg = parse_error("A\nReview: {text", 10);
  EXPECT_THAT(msg, HasSubstr("unclosed '{'"));
  EXPECT_THAT(msg, HasSubstr("(line 2, column 9)"));
  EXPECT_THAT(msg, HasSubstr("\n  Review: {text\n          ^"));
}

TEST(Template, OtherSyntaxErrors) {
  EXPECT_THAT(parse_error("a } b", 2), HasSubstr("unmatched '}'"));
  EXPECT_THAT(parse_error("x {}", 2), HasSubstr("empty placeholder"));
  EXPECT_THAT(parse_error("{\"k\": 1}", 1), HasSubstr("write {{"));
  EXPECT_THAT(parse_error("{soft:0}", 0), HasSubstr("length must be"));
  EXPECT_THAT(parse_error("{soft:a:b}", 0), HasSubstr("bad soft slot"));
  EXPECT_THAT(parse_error("{soft:p:2} {soft:p:3}", 11), HasSubstr("two different lengths"));
  EXPECT_THAT(parse_error("{text:2}", 0), HasSubstr("only allowed in {soft"));
}

TEST(Template, UnknownFieldReportsPosition) {
  const auto t = Template::parse("Review: {txt}\nSentiment:", "default");
  try {
    t.check_fields({"text", "label"});
    FAIL() << "expected a TemplateError";
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.offset(), 8u);
    EXPECT_THAT(e.what(), HasSubstr("unknown field 'txt'"));
    EXPECT_THAT(e.what(), HasSubstr("known fields: label, text"));
    EXPECT_THAT(e.what(), HasSubstr("\n  Review: {txt}\n          ^"));
  }
}

TEST(Template, MissingFieldAtRenderNamesExampleRow) {
  const auto t = Template::parse("Q: {question}", "default");
  try {
    t.render(make({{"text", "x"}}), {});
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(e.field(), "question");
    EXPECT_EQ(e.line(), 12);
    EXPECT_THAT(e.what(), HasSubstr("rows.jsonl:12: field 'question'"));
    EXPECT_THAT(e.what(), HasSubstr("offset 3"));
  }
}

TEST(Template, TargetOnlyWithContext) {
  const auto t = Template::parse("{text} => {target}", "demo");
  EXPECT_THROW(t.render(make({{"text", "x"}}), {}), TemplateError);
  const std::string target = "positive";
  TemplateContext ctx;
  ctx.target = &target;
  EXPECT_EQ(t.render(make({{"text", "x"}}), ctx).text(), "x => positive");
}

}  // namespace
}  // namespace ptune::tasks
