#include "ptune/tasks/prompt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ptune/tasks/errors.h"
#include "ptune/tasks/fewshot.h"
#include "test_util.h"

namespace ptune::tasks {
namespace {

using ::testing::HasSubstr;

struct Mini {
  TaskSpec task = load_task(test::data_path("tasks/mini/task.json"));
  TaskData data = [this] {
    TaskSpec t = task;
    t.data.skip_bad = true;  // test.csv holds one "neutral" row
    return load_task_data(t);
  }();
};

TEST(Prompt, RendersTheEndToEndFlow) {
  Mini m;
  PromptBuilder prompts(m.task);
  const Example& query = m.data.test[0];
  const auto demos = select_demos(m.data.train, m.task.few_shot, query, prompts.label_field());
  ASSERT_EQ(demos.size(), 2u);
  const auto prompt = prompts.render(query, demos);
  ASSERT_EQ(prompt.segments.size(), 1u);
  const std::string text = prompt.text();
  EXPECT_THAT(text, ::testing::StartsWith("Is the review positive or negative?\n\nReview: "));
  EXPECT_THAT(text, ::testing::EndsWith("\n\nReview: Great, just great.\nSentiment:"));
  // Each demo shows the first verbalizer word of its gold label, then the separator.
  EXPECT_THAT(text, HasSubstr("\nSentiment: positive\n\n"));
  EXPECT_THAT(text, HasSubstr("\nSentiment: negative\n\n"));

  const auto cands = prompts.candidates(query);
  ASSERT_EQ(cands.size(), 3u);
  EXPECT_EQ(cands[0].continuation, " positive");
  EXPECT_EQ(cands[1].continuation, " good");
  EXPECT_EQ(cands[1].label, 0u);
  EXPECT_EQ(cands[2].continuation, " negative");
  EXPECT_EQ(cands[2].label, 1u);
  EXPECT_EQ(prompts.gold_index(query), 0u);
  EXPECT_EQ(prompts.class_names(query), (std::vector<std::string>{"positive", "negative"}));
}

TEST(Prompt, ZeroShotAndSoftTemplate) {
  Mini m;
  PromptBuilder zero(m.task);
  EXPECT_EQ(zero.render(m.data.test[1], {}).text(),
            "Is the review positive or negative?\n\nReview: Awful plot.\nSentiment:");
  PromptBuilder soft(m.task, "soft");
  const auto p = soft.render(m.data.test[1], {});
  ASSERT_EQ(p.segments.size(), 2u);
  EXPECT_EQ(p.segments[0].kind, Segment::Kind::Soft);
  EXPECT_EQ(p.segments[0].soft_length, 8);
  EXPECT_EQ(p.segments[1].text, "Review: Awful plot.\nSentiment:");
  EXPECT_THROW(PromptBuilder(m.task, "missing"), std::invalid_argument);
}

TEST(Prompt, ContentFreeInputForCalibration) {
  Mini m;
  PromptBuilder prompts(m.task);
  EXPECT_EQ(prompts.render_content_free(m.data.test[0], {}, "N/A").text(),
            "Is the review positive or negative?\n\nReview: N/A\nSentiment:");
}

TEST(Prompt, MultipleChoiceGoldByIndexOrText) {
  TaskSpec t =
      parse_task(R"({"type": "multiple_choice", "template": "{question}\n{choices}\nAnswer:",
                              "data": {"file": "mc.jsonl"}})",
                 "mc.json", "/x");
  PromptBuilder prompts(t);
  Example ex;
  ex.source = "mc.jsonl";
  ex.line = 3;
  ex.fields = {{"question", "Sky colour?"}, {"label", "1"}};
  ex.lists["choices"] = {"green", "blue"};
  EXPECT_EQ(prompts.gold_index(ex), 1u);
  EXPECT_EQ(prompts.candidates(ex)[1].continuation, " blue");
  EXPECT_EQ(prompts.target_text(ex), "blue");
  ex.fields["label"] = "green";
  EXPECT_EQ(prompts.gold_index(ex), 0u);
  ex.fields["label"] = "red";
  try {
    prompts.gold_index(ex);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("mc.jsonl:3: field 'label': unknown value 'red'"));
  }
}

TEST(Prompt, QaReferencesFromLists) {
  TaskSpec t = parse_task(R"({"type": "qa", "template": "Q: {question}\nA:",
                              "data": {"file": "qa.jsonl"}})",
                          "qa.json", "/x");
  PromptBuilder prompts(t);
  Example ex;
  ex.fields = {{"question", "Capital of France?"}};
  ex.lists["answer"] = {"Paris", "paris, France"};
  EXPECT_EQ(prompts.references(ex), (std::vector<std::string>{"Paris", "paris, France"}));
  EXPECT_EQ(prompts.target_text(ex), "Paris");
  EXPECT_THROW(prompts.candidates(ex), std::logic_error);
}

}  // namespace
}  // namespace ptune::tasks
