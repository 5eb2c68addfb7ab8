// A method that exists only in this file registers itself and trains through the same entry
// point as the built-in ones (tune_prompt), with nothing outside this file knowing about it:
// the proof that adding a method is adding its folder (issue 8).
//
// The method, "shared-token": one trainable embedding [1, C] repeated to N virtual tokens (a soft
// prompt with C parameters instead of N x C). It saves as a prompt-tuning artifact, so the
// existing loader runs it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "ptune/methods/prompt_artifact.h"
#include "ptune/methods/prompt_tuning.h"
#include "ptune/methods/registry.h"
#include "ptune/tasks/task.h"
#include "ptune/train/tune.h"
#include "test_model.h"

namespace ptune::train {
namespace {

namespace fs = std::filesystem;

struct SharedTokenConfig : methods::MethodConfig {
  int64_t virtual_tokens = 4;
  void describe(methods::ConfigFields& f) override {
    f.add("virtual-tokens", &virtual_tokens, "Copies of the shared token");
  }
  void validate() const override {
    if (virtual_tokens < 1) throw std::invalid_argument("--virtual-tokens must be >= 1");
  }
  double default_lr() const override { return 1e-2; }
};

class SharedToken : public methods::TrainablePrompt {
 public:
  SharedToken(const SharedTokenConfig& c, const Model& model)
      : n_(c.virtual_tokens),
        token_(model.token_embedding().mean(0, /*keepdim=*/true).clone().requires_grad_(true)) {}
  std::vector<torch::Tensor> parameters() const override { return {token_}; }
  torch::Tensor output(bool) const override { return token_.expand({n_, -1}); }
  PastKV state(const Model& model, bool training) const override {
    return methods::soft_prompt_state(model, output(training));
  }
  int64_t n_virtual() const override { return n_; }
  void save(const std::string& dir, const ModelConfig& model,
            const std::string& base_model) const override {
    methods::PromptEmbedding(output(false).detach().contiguous()).save(dir, model, base_model);
  }

 private:
  int64_t n_;
  torch::Tensor token_;  // [1, C]
};

methods::Method shared_token_method() {
  return {"shared-token",
          "one trainable embedding repeated N times (test-only)",
          "",
          [] { return std::make_unique<SharedTokenConfig>(); },
          [](const methods::MethodConfig& c,
             const methods::BuildContext& ctx) -> std::unique_ptr<methods::TrainablePrompt> {
            return std::make_unique<SharedToken>(methods::config_as<SharedTokenConfig>(c),
                                                 ctx.model);
          },
          [](const std::string& dir, const Model& model) {
            return methods::method_named("prompt-tuning").load(dir, model);
          }};
}

// Registered once for the whole binary (the registry lives as long as the process).
const methods::Method& shared_token() {
  static const bool registered = [] {
    methods::register_method(shared_token_method());
    return true;
  }();
  (void)registered;
  return methods::method_named("shared-token");
}

TEST(CustomMethod, RegistersNextToTheBuiltInOnes) {
  const methods::Method& m = shared_token();
  EXPECT_EQ(m.description, "one trainable embedding repeated N times (test-only)");
  EXPECT_NE(methods::find_method("prompt-tuning"), nullptr);
  bool listed = false;
  for (const methods::Method* r : methods::registered_methods()) listed |= r->name == m.name;
  EXPECT_TRUE(listed);
  EXPECT_THROW(methods::register_method(shared_token_method()), std::invalid_argument);
  methods::Method same_peft = shared_token_method();
  same_peft.name = "other";
  same_peft.peft_type = "PROMPT_TUNING";  // prompt tuning reads those artifacts already
  EXPECT_THROW(methods::register_method(same_peft), std::invalid_argument);
}

TEST(CustomMethod, TrainsThroughTunePrompt) {
  std::string path;
  if (!test::default_model(&path)) GTEST_SKIP() << "default model missing";
  const methods::Method& method = shared_token();
  const Tokenizer& tok = *test::real_model()->tokenizer;
  const Model* model = test::real_model()->model.get();
  tasks::TaskSpec task = tasks::load_task(test::data_path("../../examples/sentiment/task.json"));
  tasks::TaskData data = tasks::load_task_data(task);
  data.train.resize(8);
  data.dev.resize(8);
  const fs::path dir = fs::temp_directory_path() / "ptune_custom_method_test";
  fs::remove_all(dir);

  TuneOptions o;
  o.method = method.name;
  auto config = std::make_shared<SharedTokenConfig>();
  config->virtual_tokens = 3;
  o.config = config;
  o.train.batch_size = 8;
  o.train.max_steps = 4;
  o.train.warmup_steps = 0;
  o.train.seed = 1;
  o.train.progress = eval::Progress::Mode::Off;
  o.out_dir = dir.string();
  const TuneResult r = tune_prompt(task, data, *model, tok, o);

  EXPECT_EQ(r.trainable_parameters, model->config().n_embd);  // one embedding, not N of them
  ASSERT_EQ(r.train.log.size(), 4u);
  EXPECT_LT(r.train.log.back().loss, r.train.log.front().loss);  // the same batch every step
  EXPECT_EQ(r.record.at("method"), "shared-token");
  EXPECT_EQ(r.record.at("method_config").at("virtual-tokens"), 3);
  EXPECT_EQ(r.record.at("lr"), 1e-2);  // the method's default_lr()

  // The artifact it saved loads through the one loader and runs as a 3-token soft prompt.
  const methods::PromptArtifact a = methods::load_prompt_artifact(dir.string(), *model);
  EXPECT_EQ(a.method, "prompt-tuning");
  ASSERT_NE(a.continuous, nullptr);
  EXPECT_EQ(a.continuous->n_virtual(), 3);
  EXPECT_EQ(a.state(*model).length(), 3);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ptune::train
