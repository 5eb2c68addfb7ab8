// The shipped example tasks load, validate and meet the sizes issue 3 asks for.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "ptune/tasks/fewshot.h"
#include "ptune/tasks/prompt.h"
#include "ptune/tasks/task.h"
#include "test_util.h"

namespace ptune::tasks {
namespace {

std::string example_task(const std::string& name) {
  return test::data_path("../../examples/" + name + "/task.json");
}

size_t total(const TaskData& d) {
  return d.train.size() + d.dev.size() + d.test.size();
}

struct Case {
  const char* name;
  size_t min_examples;
  size_t min_labels;
};

class ExampleTasks : public ::testing::TestWithParam<Case> {};

TEST_P(ExampleTasks, LoadRenderFiveShot) {
  const Case c = GetParam();
  TaskSpec task = load_task(example_task(c.name));
  const TaskData data = load_task_data(task);
  EXPECT_EQ(data.report.skipped, 0u);
  EXPECT_GE(total(data), c.min_examples);
  if (c.min_labels > 0) {
    std::set<std::string> labels;
    for (const auto& ex : data.test) labels.insert(ex.get("label"));
    EXPECT_GE(labels.size(), c.min_labels);
  }
  task.few_shot.k = 5;  // what `--shots 5` will do
  PromptBuilder prompts(task);
  for (size_t i = 0; i < data.test.size(); ++i) {
    const auto demos =
        select_demos(data.train, task.few_shot, data.test[i], prompts.label_field(), i);
    ASSERT_EQ(demos.size(), 5u);
    EXPECT_FALSE(prompts.render(data.test[i], demos).text().empty());
  }
}

INSTANTIATE_TEST_SUITE_P(All, ExampleTasks,
                         ::testing::Values(Case{"sentiment", 300, 2},
                                           Case{"support-intent", 400, 8}, Case{"short-qa", 150, 0},
                                           Case{"support-replies", 100, 0}),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (auto& ch : n) ch = ch == '-' ? '_' : ch;
                           return n;
                         });

TEST(ExampleTasks, SentimentIsBalanced) {
  const TaskData d = load_task_data(load_task(example_task("sentiment")));
  std::map<std::string, size_t> counts;
  for (const auto* split : {&d.train, &d.dev, &d.test}) {
    for (const auto& ex : *split) ++counts[ex.get("label")];
  }
  EXPECT_EQ(counts["positive"], counts["negative"]);
}

}  // namespace
}  // namespace ptune::tasks
