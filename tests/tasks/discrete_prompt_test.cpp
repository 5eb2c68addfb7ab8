// Discrete prompt files: strict parsing with errors naming the key, an exact round trip, and the
// three placements applied to a task's template.
#include "ptune/tasks/discrete_prompt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "ptune/tasks/errors.h"

namespace ptune::tasks {
namespace {

using ::testing::HasSubstr;

// The message parsing `text` fails with.
std::string error_of(const std::string& text) {
  std::string message = "(no error)";
  try {
    parse_discrete_prompt(text, "p.json");
  } catch (const TaskFileError& e) {
    message = e.what();
  }
  return message;
}

const char* kValid =
    R"({"format": "ptune-discrete-prompt", "version": 1, "text": "Be terse.",
        "token_ids": [5, 6], "placement": "prefix", "model": "m.gguf", "method": "gcg"})";

TEST(DiscretePrompt, ParsesAndRoundTrips) {
  const DiscretePrompt p = parse_discrete_prompt(kValid, "p.json");
  EXPECT_EQ(p.text, "Be terse.");
  EXPECT_EQ(p.token_ids, (std::vector<int32_t>{5, 6}));
  EXPECT_EQ(p.placement, DiscretePrompt::Placement::Prefix);
  EXPECT_EQ(p.model, "m.gguf");
  EXPECT_EQ(p.method, "gcg");
  const DiscretePrompt q = parse_discrete_prompt(to_json(p), "q.json");
  EXPECT_EQ(to_json(q), to_json(p));
  const auto path = std::filesystem::temp_directory_path() / "ptune_discrete_prompt_test.json";
  write_discrete_prompt(path.string(), p);
  EXPECT_EQ(to_json(read_discrete_prompt(path.string())), to_json(p));
  std::filesystem::remove(path);
}

TEST(DiscretePrompt, BadFilesNameTheKey) {
  EXPECT_THAT(error_of("[1]"), HasSubstr("must be a JSON object"));
  EXPECT_THAT(error_of("{"), HasSubstr("p.json: invalid JSON"));
  EXPECT_THAT(error_of(R"({"format": "other", "version": 1})"), HasSubstr("key 'format'"));
  EXPECT_THAT(error_of(R"({"format": "ptune-discrete-prompt", "version": 2})"),
              HasSubstr("key 'version': must be 1"));
  const std::string head = R"({"format": "ptune-discrete-prompt", "version": 1, )";
  EXPECT_THAT(error_of(head + R"("placement": "prefix"})"), HasSubstr("key 'text': missing"));
  EXPECT_THAT(error_of(head + R"("text": "x", "text": "y", "placement": "prefix"})"),
              HasSubstr("p.json: invalid JSON at line 1, column 64: duplicate key \"text\""));
  EXPECT_THAT(error_of(head + R"("text": "", "placement": "prefix"})"),
              HasSubstr("key 'text': must not be empty"));
  EXPECT_THAT(error_of(head + R"("text": "x", "placement": "middle"})"),
              HasSubstr("key 'placement': unknown value 'middle'"));
  EXPECT_THAT(error_of(head + R"("text": "x", "placement": "slot"})"),
              HasSubstr("key 'slot': missing"));
  EXPECT_THAT(error_of(head + R"("text": "x", "placement": "prefix", "slot": "a"})"),
              HasSubstr("key 'slot': is only for placement \"slot\""));
  EXPECT_THAT(error_of(head + R"("text": "x", "placement": "prefix", "token_ids": [-1]})"),
              HasSubstr("key 'token_ids'"));
  EXPECT_THAT(error_of(head + R"("text": "x", "placement": "prefix", "txet": 1})"),
              HasSubstr("key 'txet': unknown key"));
  EXPECT_THAT([] { read_discrete_prompt("/nonexistent/p.json"); },
              testing::ThrowsMessage<TaskFileError>(HasSubstr("cannot open")));
}

TaskSpec task_with(const std::string& tmpl) {
  TaskSpec t;
  t.instruction = "Classify the review.";
  t.templates["default"] = tmpl;
  return t;
}

TEST(DiscretePrompt, PlacementsChangeTheTemplateAsNamed) {
  DiscretePrompt p;
  p.text = "Think {carefully}.";
  const TaskSpec base = task_with("{instruction}\n{soft:trigger}Review: {text}");
  p.placement = DiscretePrompt::Placement::Prefix;
  EXPECT_EQ(with_discrete_prompt(base, p, "default").instruction,
            "Think {carefully}. Classify the review.");
  p.placement = DiscretePrompt::Placement::Instruction;
  EXPECT_EQ(with_discrete_prompt(base, p, "default").instruction, "Think {carefully}.");
  p.placement = DiscretePrompt::Placement::Slot;
  p.slot = "trigger";
  const TaskSpec slotted = with_discrete_prompt(base, p, "default");
  EXPECT_EQ(slotted.templates.at("default"),
            "{instruction}\nThink {{carefully}}.Review: {text}");  // braces stay literal
  EXPECT_EQ(slotted.instruction, base.instruction);
}

TEST(DiscretePrompt, PlacementTheTemplateCannotTakeIsAnError) {
  DiscretePrompt p;
  p.text = "x";
  p.placement = DiscretePrompt::Placement::Prefix;
  EXPECT_THAT([&] { with_discrete_prompt(task_with("Review: {text}"), p, "default"); },
              testing::ThrowsMessage<std::invalid_argument>(HasSubstr("needs an {instruction}")));
  p.placement = DiscretePrompt::Placement::Slot;
  p.slot = "missing";
  EXPECT_THAT([&] { with_discrete_prompt(task_with("{soft:other}{text}"), p, "default"); },
              testing::ThrowsMessage<std::invalid_argument>(HasSubstr("no {soft:missing} slot")));
  EXPECT_THAT([&] { with_discrete_prompt(task_with("{text}"), p, "nope"); },
              testing::ThrowsMessage<std::invalid_argument>(HasSubstr("unknown template 'nope'")));
}

}  // namespace
}  // namespace ptune::tasks
