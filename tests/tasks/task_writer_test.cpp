// task_file_json: a task written back parses to the same task.
#include <gtest/gtest.h>

#include <filesystem>

#include "ptune/tasks/task.h"
#include "test_util.h"

namespace ptune::tasks {
namespace {

void expect_same(const TaskSpec& a, const TaskSpec& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.format, b.format);
  EXPECT_EQ(a.instruction, b.instruction);
  EXPECT_EQ(a.templates, b.templates);
  ASSERT_EQ(a.labels.size(), b.labels.size());
  for (size_t i = 0; i < a.labels.size(); ++i) {
    EXPECT_EQ(a.labels[i].name, b.labels[i].name);
    EXPECT_EQ(a.labels[i].words, b.labels[i].words);
  }
  EXPECT_EQ(a.metrics, b.metrics);
  EXPECT_EQ(a.data.split_files, b.data.split_files);
  EXPECT_EQ(a.data.fields.size(), b.data.fields.size());
  EXPECT_EQ(a.few_shot.k, b.few_shot.k);
  EXPECT_EQ(a.few_shot.selection, b.few_shot.selection);
  EXPECT_EQ(a.few_shot.indices, b.few_shot.indices);
  EXPECT_EQ(a.few_shot.demo_template, b.few_shot.demo_template);
  EXPECT_EQ(a.few_shot.separator, b.few_shot.separator);
  EXPECT_EQ(a.scoring.normalize, b.scoring.normalize);
  EXPECT_EQ(a.scoring.calibration, b.scoring.calibration);
  EXPECT_EQ(a.scoring.label_prefix, b.scoring.label_prefix);
  EXPECT_EQ(a.generation.stop, b.generation.stop);
}

TEST(TaskWriter, RoundTripsTheMiniTask) {
  const TaskSpec t = load_task(test::data_path("tasks/mini/task.json"));
  // Written elsewhere: absolute data paths still find the data.
  const TaskSpec back = parse_task(task_file_json(t), "copy.json", "/nowhere");
  expect_same(back, [&] {
    TaskSpec abs = t;
    for (auto& [split, path] : abs.data.split_files)
      path = std::filesystem::absolute(path).lexically_normal().string();
    return abs;
  }());
}

TEST(TaskWriter, WritesFixedDemosAndScoring) {
  TaskSpec t = load_task(test::data_path("tasks/mini/task.json"));
  t.few_shot.selection = DemoSelection::Fixed;
  t.few_shot.indices = {2, 0};
  t.few_shot.k = 2;
  t.few_shot.per_label = 0;
  t.scoring.calibration = true;
  t.scoring.normalize = ScoreNormalization::Mean;
  t.instruction = "Say \"positive\" or negative.\n";
  const TaskSpec back = parse_task(task_file_json(t), "copy.json", "/nowhere");
  EXPECT_EQ(back.few_shot.selection, DemoSelection::Fixed);
  EXPECT_EQ(back.few_shot.indices, (std::vector<size_t>{2, 0}));
  EXPECT_TRUE(back.scoring.calibration);
  EXPECT_EQ(back.scoring.normalize, ScoreNormalization::Mean);
  EXPECT_EQ(back.instruction, t.instruction);
}

}  // namespace
}  // namespace ptune::tasks
