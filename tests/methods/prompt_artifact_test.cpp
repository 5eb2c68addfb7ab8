// One loader for tuned prompts of both kinds: PEFT adapter folders of each registered method
// (the fixtures PEFT itself saved for the tiny llama's dimensions) and discrete prompt files,
// with clear errors for what it cannot load.
#include "ptune/methods/prompt_artifact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ptune/io/peft_config.h"
#include "ptune/tasks/errors.h"
#include "test_model.h"

namespace ptune::methods {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

struct Fixture {
  const char* dir;
  const char* method;
  int64_t virtual_tokens;
};

TEST(PromptArtifact, LoadsEachMethodsPeftFixture) {
  const Model& model = test::tiny_model();  // the fixtures' dimensions: 32 wide, 2 layers, GQA
  for (const Fixture& f :
       {Fixture{"prompt_tuning", "prompt-tuning", 4}, Fixture{"p_tuning", "p-tuning", 3},
        Fixture{"prefix_tuning", "prefix-tuning", 3},
        Fixture{"prefix_projection", "prefix-tuning", 2}}) {
    SCOPED_TRACE(f.dir);
    const PromptArtifact a =
        load_prompt_artifact(test::data_path(std::string("peft/") + f.dir), model);
    EXPECT_EQ(a.method, f.method);
    ASSERT_NE(a.continuous, nullptr);
    EXPECT_FALSE(a.discrete.has_value());
    EXPECT_TRUE(a.continuous->parameters().empty());  // loaded for inference, nothing to train
    const PastKV s = a.state(model);
    ASSERT_EQ(static_cast<int64_t>(s.keys.size()), model.config().n_layer);
    EXPECT_EQ(s.length(), f.virtual_tokens);
    EXPECT_EQ(s.batch(), 1);
    EXPECT_FALSE(s.keys[0].requires_grad());
    EXPECT_THAT(a.describe(), HasSubstr(std::to_string(f.virtual_tokens) + " virtual tokens"));
  }
}

TEST(PromptArtifact, LoadsADiscretePromptFile) {
  const fs::path path = fs::temp_directory_path() / "ptune_prompt_artifact_test.json";
  tasks::DiscretePrompt p;
  p.text = "Answer in one word.";
  p.placement = tasks::DiscretePrompt::Placement::Instruction;
  p.method = "search";
  tasks::write_discrete_prompt(path.string(), p);
  const PromptArtifact a = load_prompt_artifact(path.string(), test::tiny_model());
  fs::remove(path);
  ASSERT_TRUE(a.discrete.has_value());
  EXPECT_EQ(a.discrete->text, p.text);
  EXPECT_EQ(a.continuous, nullptr);
  EXPECT_TRUE(a.state(test::tiny_model()).empty());
  EXPECT_EQ(a.describe(), "discrete prompt (instruction, found by search)");
}

TEST(PromptArtifact, RefusesWhatItCannotLoad) {
  const Model& model = test::tiny_model();
  EXPECT_THAT([&] { load_prompt_artifact("/nonexistent/adapter", model); },
              testing::ThrowsMessage<tasks::TaskFileError>(
                  HasSubstr("no such adapter folder or discrete prompt file")));
  // A PEFT type no registered method reads (LoRA is not a prompt method).
  const fs::path dir = fs::temp_directory_path() / "ptune_prompt_artifact_lora";
  fs::create_directories(dir);
  std::string config = test::read_file(test::data_path("peft/prompt_tuning/adapter_config.json"));
  config.replace(config.find("\"PROMPT_TUNING\""), 15, "\"LORA\"");
  std::ofstream(dir / "adapter_config.json") << config;
  EXPECT_THAT([&] { load_prompt_artifact(dir.string(), model); },
              testing::ThrowsMessage<peft::PeftConfigError>(HasSubstr("LORA")));
  fs::remove_all(dir);
  // An adapter made for a model of other dimensions.
  test::TinyLlama wider;
  wider.n_embd = 64;
  EXPECT_THAT(
      [&] { load_prompt_artifact(test::data_path("peft/prompt_tuning"), test::tiny_model(wider)); },
      testing::ThrowsMessage<peft::PeftConfigError>(HasSubstr("token_dim")));
}

}  // namespace
}  // namespace ptune::methods
