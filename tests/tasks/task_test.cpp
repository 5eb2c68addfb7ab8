#include "ptune/tasks/task.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "ptune/eval/metrics/registry.h"
#include "ptune/tasks/errors.h"
#include "test_util.h"

namespace ptune::tasks {
namespace {

using ::testing::HasSubstr;

std::string mini_dir() {
  return test::data_path("tasks/mini");
}

// A valid generation task to mutate in the error tests.
const char* kGeneration = R"({
  "type": "generation",
  "template": "Customer: {message}\nAgent:",
  "data": {"file": "all.jsonl", "split": {"train": 0.5, "dev": 0.25, "test": 0.25, "seed": 4}},
  "generation": {"max_tokens": 80, "stop": ["\nCustomer:"]}
})";

// Parses `json` expecting a TaskFileError for `key`; returns the message.
std::string task_error(const std::string& json, const std::string& key) {
  try {
    parse_task(json, "t.json", "/base");
  } catch (const TaskFileError& e) {
    EXPECT_EQ(e.key(), key) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("t.json: key '" + key + "'"));
    return e.what();
  }
  ADD_FAILURE() << "expected a TaskFileError for key " << key;
  return "";
}

// kGeneration with one substitution.
std::string edited(const std::string& from, const std::string& to) {
  std::string s = kGeneration;
  const size_t p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  return s.replace(p, from.size(), to);
}

TEST(TaskFile, LoadsTheMiniTask) {
  const TaskSpec t = load_task(mini_dir() + "/task.json");
  EXPECT_EQ(t.name, "mini");  // from the folder
  EXPECT_EQ(t.type, TaskType::Classification);
  EXPECT_EQ(t.format, PromptFormat::Completion);
  ASSERT_EQ(t.labels.size(), 2u);
  EXPECT_EQ(t.labels[0].name, "positive");  // file order, not alphabetical
  EXPECT_EQ(t.labels[0].words, (std::vector<std::string>{"positive", "good"}));
  EXPECT_EQ(t.labels[1].words, (std::vector<std::string>{"negative"}));
  EXPECT_EQ(t.metrics.size(), 3u);
  EXPECT_EQ(t.data.split_files.at("train"), mini_dir() + "/train.jsonl");
  EXPECT_EQ(t.data.split_files.at("test"), mini_dir() + "/test.csv");
  EXPECT_EQ(t.data.fields.at("text").keys, (std::vector<std::string>{"review"}));
  EXPECT_EQ(t.few_shot.k, 2u);
  EXPECT_EQ(t.few_shot.selection, DemoSelection::Stratified);
  EXPECT_EQ(t.scoring.label_prefix, " ");  // completion default
  EXPECT_EQ(t.scoring.normalize, ScoreNormalization::Sum);
  EXPECT_EQ(t.templates.size(), 2u);
  EXPECT_EQ(t.target_field(), "label");
}

TEST(TaskFile, GenerationDefaults) {
  const TaskSpec t = parse_task(kGeneration, "t.json", "/base");
  EXPECT_EQ(t.name, "base");
  EXPECT_EQ(t.data.file, "/base/all.jsonl");
  EXPECT_DOUBLE_EQ(t.data.fractions.dev, 0.25);
  EXPECT_EQ(t.data.split_seed, 4u);
  EXPECT_EQ(t.metrics, default_metrics(TaskType::Generation));
  EXPECT_EQ(t.generation.max_tokens, 80);
  EXPECT_EQ(t.generation.stop, (std::vector<std::string>{"\nCustomer:"}));
  EXPECT_EQ(t.few_shot.selection, DemoSelection::Random);
  EXPECT_EQ(t.target_field(), "reference");
}

TEST(TaskFile, ChatFormatDropsTheLabelSpace) {
  const TaskSpec t =
      parse_task(edited("\"type\"", "\"format\": \"chat\", \"system\": \"Be brief.\", \"type\""),
                 "t.json", "/base");
  EXPECT_EQ(t.format, PromptFormat::Chat);
  EXPECT_EQ(t.system, "Be brief.");
  EXPECT_EQ(t.scoring.label_prefix, "");
}

TEST(TaskFile, UnknownKeysAreErrorsWithHints) {
  EXPECT_THAT(
      task_error(edited("\"generation\": {", "\"few_shots\": {}, \"generation\": {"), "few_shots"),
      HasSubstr("did you mean 'few_shot'?"));
  EXPECT_THAT(task_error(edited("\"max_tokens\"", "\"max_token\""), "generation.max_token"),
              HasSubstr("did you mean 'max_tokens'?"));
  EXPECT_THAT(
      task_error(edited("\"seed\": 4", "\"seed\": 4, \"shuffle\": true"), "data.split.shuffle"),
      HasSubstr("unknown key"));
}

// An empty template or an empty calibration list is refused when the file loads, naming the key
// (they used to fail only after the model loaded: "empty context", a prior of nothing).
TEST(TaskFile, EmptyTemplatesAndCalibrationInputsAreRefused) {
  EXPECT_THAT(
      task_error(edited("\"template\": \"Customer: {message}\\nAgent:\"", "\"template\": \"\""),
                 "template"),
      HasSubstr("is empty"));
  EXPECT_THAT(
      task_error(edited("\"generation\": {", "\"templates\": {\"bare\": \"\"}, \"generation\": {"),
                 "templates.bare"),
      HasSubstr("is empty"));
  EXPECT_THAT(task_error(edited("\"generation\": {",
                                "\"scoring\": {\"calibration_inputs\": []}, \"generation\": {"),
                         "scoring.calibration_inputs"),
              HasSubstr("at least one content-free input"));
}

TEST(TaskFile, BadValuesNameTheKey) {
  EXPECT_THAT(task_error(edited("\"generation\": {", "\"tpye\": 1, \"generation\": {"), "tpye"),
              HasSubstr("did you mean 'type'?"));
  EXPECT_THAT(task_error(edited("generation\",", "summarize\","), "type"),
              HasSubstr("unknown value 'summarize'"));
  EXPECT_THAT(
      task_error(edited("\"max_tokens\": 80", "\"max_tokens\": \"80\""), "generation.max_tokens"),
      HasSubstr("expected an integer"));
  EXPECT_THAT(task_error(edited("\"test\": 0.25,", "\"test\": 0.5,"), "data.split"),
              HasSubstr("sum to 1"));
  EXPECT_THAT(
      task_error(edited("\"generation\": {", "\"metrics\": [\"acuracy\"], \"generation\": {"),
                 "metrics"),
      HasSubstr("unknown metric 'acuracy'"));
  EXPECT_THAT(
      task_error(edited("\"generation\": {", "\"metrics\": [\"accuracy\"], \"generation\": {"),
                 "metrics"),
      HasSubstr("needs a classification"));
  EXPECT_THAT(
      task_error(edited("\"generation\": {", "\"metrics\": [\"rubric\"], \"generation\": {"),
                 "metrics"),
      HasSubstr("judge prompt"));
}

TEST(TaskFile, MetricsComeFromTheRegistry) {
  // A metric for another task type is refused, naming the types it fits and this task's type.
  EXPECT_THAT(
      task_error(edited("\"generation\": {", "\"metrics\": [\"macro_f1\"], \"generation\": {"),
                 "metrics"),
      HasSubstr("'macro_f1' needs a classification or multiple_choice task (this one is "
                "generation)"));
  const std::string classification = R"({"type": "classification", "template": "{text}",
    "labels": {"a": "x", "b": "y"}, "metrics": ["accuracy", "bleu"], "data": {"file": "d.jsonl"}})";
  EXPECT_THAT(task_error(classification, "metrics"),
              HasSubstr("'bleu' needs a generation or qa task (this one is classification)"));
  // nll applies everywhere; the known list is the registry's.
  EXPECT_NO_THROW(parse_task(
      edited("\"generation\": {", "\"metrics\": [\"nll\"], \"generation\": {"), "t.json", "/base"));
  EXPECT_EQ(known_metrics(), eval::metric_names());
  EXPECT_THAT(
      task_error(edited("\"generation\": {", "\"metrics\": [\"x\"], \"generation\": {"), "metrics"),
      HasSubstr("(known: accuracy, macro_f1, per_class, confusion_matrix, exact_match, "));
}

TEST(TaskFile, DefaultDevMetric) {
  TaskSpec t;
  t.type = TaskType::Classification;
  t.metrics = {"macro_f1"};
  EXPECT_EQ(default_dev_metric(t), "accuracy");
  t.type = TaskType::MultipleChoice;
  t.metrics = {"per_class", "macro_f1"};
  EXPECT_EQ(default_dev_metric(t), "macro_f1");  // a table has no value to watch
  t.type = TaskType::Generation;
  t.metrics = {"rouge_l", "bleu"};
  EXPECT_EQ(default_dev_metric(t), "rouge_l");
  t.metrics = {};
  EXPECT_THROW(default_dev_metric(t), std::invalid_argument);
}

TEST(TaskFile, InvalidJsonNamesTheLine) {
  try {
    parse_task("{\n  \"type\": \"qa\",\n  \"template\": \"x\"\n  \"data\": {}\n}", "t.json", "/b");
    FAIL();
  } catch (const TaskFileError& e) {
    EXPECT_THAT(e.what(), HasSubstr("invalid JSON near line 4"));
  }
}

// Parses `json` expecting a TaskFileError about the document, not one key; returns the message.
std::string document_error(const std::string& json) {
  try {
    parse_task(json, "t.json", "/base");
  } catch (const TaskFileError& e) {
    EXPECT_EQ(e.key(), "") << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected a TaskFileError";
  return "";
}

// nlohmann keeps the last of two equal keys; a task file must not change meaning that way.
TEST(TaskFile, DuplicateKeysAreErrors) {
  const std::string labels = R"({
  "type": "classification",
  "template": "{text}",
  "labels": {"positive": ["good"], "negative": ["bad"], "positive": ["great"]}
})";
  const std::string msg = document_error(labels);
  EXPECT_THAT(msg, HasSubstr("t.json: invalid JSON near line 4, column 57: "
                             "duplicate key \"positive\" in object \"labels\""));
  const std::string type = document_error(
      edited("\"type\": \"generation\",", "\"type\": \"generation\", \"type\": \"qa\","));
  EXPECT_THAT(type, HasSubstr("duplicate key \"type\" in the top-level object"));
  EXPECT_THAT(document_error(edited("\"max_tokens\": 80", "\"max_tokens\": 80, \"max_tokens\": 8")),
              HasSubstr("duplicate key \"max_tokens\" in object \"generation\""));
  // The same key in different objects is fine.
  EXPECT_NO_THROW(parse_task(
      edited("\"seed\": 4}},", "\"seed\": 4}}, \"few_shot\": {\"seed\": 4},"), "t.json", "/base"));
}

TEST(TaskFile, TemplateErrorsNameKeyAndPosition) {
  const std::string msg =
      task_error(edited("Customer: {message}", "Customer: {message"), "template");
  EXPECT_THAT(msg, HasSubstr("unclosed '{'"));
  EXPECT_THAT(msg, HasSubstr("offset 10"));
  // With an explicit field mapping, unknown template fields are caught at load time.
  const std::string mapped =
      edited("\"split\"", "\"fields\": {\"msg\": \"text\", \"reference\": \"reply\"}, \"split\"");
  EXPECT_THAT(task_error(mapped, "template"), HasSubstr("unknown field 'message'"));
}

TEST(TaskFile, FewShotConsistency) {
  EXPECT_THAT(task_error(edited("\"generation\": {", "\"few_shot\": {\"k\": 3}, \"generation\": {"),
                         "template"),
              HasSubstr("no {demos} block"));
  EXPECT_THAT(
      task_error(edited("Customer: {message}", "{demos}Customer: {message}"), "few_shot.template"),
      HasSubstr("missing"));
  EXPECT_THAT(task_error(edited("\"generation\": {",
                                "\"few_shot\": {\"selection\": \"stratified\"}, \"generation\": {"),
                         "few_shot.selection"),
              HasSubstr("needs labels"));
  EXPECT_THAT(task_error(edited("Customer: {message}", "{target}"), "template"),
              HasSubstr("few_shot.template"));
}

TEST(TaskFile, LabelChecks) {
  const std::string cls =
      R"({"type": "classification", "template": "{text}", "data": {"file": "a.csv"},
    "labels": {"pos": ["good"], "neg": ["good"]}})";
  EXPECT_THAT(task_error(cls, "labels.neg"), HasSubstr("used by two labels"));
  std::string one = cls;
  one.replace(one.find(", \"neg\": [\"good\"]"), 17, "");
  EXPECT_THAT(task_error(one, "labels"), HasSubstr("at least two"));
}

TEST(TaskFile, MissingFileIsAnError) {
  EXPECT_THROW(load_task(mini_dir() + "/nope.json"), TaskFileError);
}

TEST(TaskData, LoadsSplitsAndRejectsUnknownLabels) {
  const TaskSpec t = load_task(mini_dir() + "/task.json");
  try {
    load_task_data(t);
    FAIL() << "expected a DataError for the neutral row";
  } catch (const DataError& e) {
    EXPECT_THAT(e.file(), HasSubstr("test.csv"));
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.field(), "label");
    EXPECT_THAT(e.what(),
                HasSubstr("unknown value 'neutral' (expected one of: positive, negative)"));
  }
  TaskSpec skipping = t;
  skipping.data.skip_bad = true;
  const TaskData d = load_task_data(skipping);
  EXPECT_EQ(d.train.size(), 6u);
  EXPECT_EQ(d.test.size(), 2u);
  EXPECT_TRUE(d.dev.empty());
  EXPECT_EQ(d.report.rows, 9u);
  EXPECT_EQ(d.report.loaded, 8u);
  EXPECT_EQ(d.report.skipped, 1u);
  EXPECT_EQ(d.split("test")[1].get("text"), "Awful plot.");
  EXPECT_THROW(d.split("validation"), std::invalid_argument);
}

}  // namespace
}  // namespace ptune::tasks
