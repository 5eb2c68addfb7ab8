// PEFT artifacts on the real default model, both directions: adapters saved by Hugging Face PEFT
// (scripts/reference/make_peft_interop.py) load into ptune and give PEFT's logits within the
// runtime's reference tolerance, artifacts ptune writes are byte-identical to PEFT's, and
// adapters trained by `ptune tune` give, in ptune, the logits PEFT computed when it loaded them
// (scripts/reference/make_ptune_interop.py).
#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "ptune/io/gguf.h"
#include "ptune/methods/prefix_tuning.h"
#include "ptune/methods/prompt_artifact.h"
#include "ptune/methods/prompt_tuning.h"
#include "ptune/methods/registry.h"
#include "test_model.h"

namespace ptune {
namespace {

constexpr double kTol = 2e-3;

class PeftInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string path;
    if (!test::default_model(&path)) GTEST_SKIP() << "default model missing";
    model_ = test::real_model()->model.get();
  }
  static std::string dir(const char* method) {
    return test::data_path(std::string("peft_smollm2/") + method);
  }
  static nlohmann::json golden(const char* method) {
    return nlohmann::json::parse(test::read_file(dir(method) + "/logits.json"));
  }
  // Max |ours - PEFT| at the golden's top-10 and strided entries; ours: [T, V].
  static double max_diff(const torch::Tensor& ours, const nlohmann::json& positions,
                         int64_t stride) {
    auto o = ours.contiguous();
    return test::max_golden_logit_diff(o.data_ptr<float>(), o.size(1), positions, stride);
  }
  // Max |ours - golden| over the golden's inputs, run through the artifact's keys/values (the
  // path generate, chat and eval take).
  static double max_diff_through(const methods::PromptArtifact& artifact, const nlohmann::json& g) {
    PastKV state = artifact.state(*model_);
    const int64_t stride = g.at("vocab_stride").get<int64_t>();
    double worst = 0;
    for (const auto& in : g.at("inputs")) {
      ForwardArgs a;
      a.input_ids = torch::tensor(in.at("ids").get<std::vector<int64_t>>()).unsqueeze(0);
      a.past = &state;
      worst = std::max(worst, max_diff(model_->forward(a).logits[0], in.at("positions"), stride));
    }
    return worst;
  }
  static void expect_same_bytes(const std::string& a, const std::string& b) {
    EXPECT_EQ(test::read_file(a), test::read_file(b)) << a << " vs " << b;
  }
  // A saved artifact as its method loads it (what load_prompt_artifact calls).
  static std::unique_ptr<methods::TrainablePrompt> load(const char* method_name,
                                                        const std::string& path) {
    return methods::method_named(method_name).load(path, *model_);
  }
  static inline const Model* model_ = nullptr;
};

TEST_F(PeftInteropTest, PromptTuningFromPeftGivesPeftLogits) {
  torch::InferenceMode guard;
  auto pt = load("prompt-tuning", dir("prompt_tuning"));
  ASSERT_EQ(pt->n_virtual(), 8);
  auto g = golden("prompt_tuning");
  const int64_t stride = g.at("vocab_stride").get<int64_t>();
  double worst = 0;
  for (const auto& in : g.at("inputs")) {
    auto ids = torch::tensor(in.at("ids").get<std::vector<int64_t>>()).unsqueeze(0);
    auto inputs = methods::prepend_soft_prompt(*model_, pt->output(false), ids);
    ForwardArgs a;
    a.input_embeds = inputs.embeds;
    a.attention_mask = inputs.mask;
    auto logits = model_->forward(a).logits[0].narrow(0, pt->n_virtual(), ids.size(1));
    worst = std::max(worst, max_diff(logits, in.at("positions"), stride));
  }
  std::printf("[ peft ] prompt tuning: max |logit diff| vs PEFT %.3g over %zu inputs\n", worst,
              g.at("inputs").size());
  EXPECT_LT(worst, kTol);
}

TEST_F(PeftInteropTest, PrefixTuningFromPeftGivesPeftLogits) {
  torch::InferenceMode guard;
  auto pre = load("prefix-tuning", dir("prefix_tuning"));
  ASSERT_EQ(pre->n_virtual(), 4);
  auto g = golden("prefix_tuning");
  const int64_t stride = g.at("vocab_stride").get<int64_t>();
  double worst = 0;
  for (const auto& in : g.at("inputs")) {
    auto ids = torch::tensor(in.at("ids").get<std::vector<int64_t>>()).unsqueeze(0);
    PastKV past = pre->state(*model_, false);
    ForwardArgs a;
    a.input_ids = ids;
    a.past = &past;
    a.attention_mask = methods::mask_with_prefix(pre->n_virtual(), {}, 1, ids.size(1));
    worst = std::max(worst, max_diff(model_->forward(a).logits[0], in.at("positions"), stride));
  }
  std::printf("[ peft ] prefix tuning: max |logit diff| vs PEFT %.3g over %zu inputs\n", worst,
              g.at("inputs").size());
  EXPECT_LT(worst, kTol);
}

TEST_F(PeftInteropTest, PTuningFromPeftGivesPeftLogits) {
  torch::InferenceMode guard;
  auto adapter = methods::load_prompt_artifact(dir("p_tuning"), *model_);
  ASSERT_EQ(adapter.method, "p-tuning");
  ASSERT_EQ(adapter.continuous->n_virtual(), 6);
  auto g = golden("p_tuning");
  const double worst = max_diff_through(adapter, g);
  std::printf("[ peft ] P-tuning: max |logit diff| vs PEFT %.3g over %zu inputs\n", worst,
              g.at("inputs").size());
  EXPECT_LT(worst, kTol);
}

TEST_F(PeftInteropTest, SavedArtifactsAreByteIdenticalToPeft) {
  auto tmp = std::filesystem::temp_directory_path() / ("ptune_peft_" + std::to_string(::getpid()));
  for (const char* method : {"prompt_tuning", "prefix_tuning"}) {
    SCOPED_TRACE(method);
    const std::string out = (tmp / method).string();
    const std::string base = "SmolLM2-135M-Instruct";  // only the weights file is compared
    methods::load_prompt_artifact(dir(method), *model_)
        .continuous->save(out, model_->config(), base);
    expect_same_bytes(out + "/adapter_model.safetensors",
                      dir(method) + "/adapter_model.safetensors");
  }
  std::filesystem::remove_all(tmp);
}

TEST_F(PeftInteropTest, WrongMethodIsNamed) {
  try {
    load("prefix-tuning", dir("prompt_tuning"));
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("PROMPT_TUNING"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ptune

namespace ptune {
namespace {

// Inference through PromptArtifact::state (what generate/chat use) equals PEFT's own paths:
// prepended embeddings for a soft prompt, a prefix with its mask for prefix tuning.
TEST_F(PeftInteropTest, AdapterPrefixStateMatchesTheMethodsOwnForward) {
  torch::InferenceMode guard;
  auto ids = torch::tensor({504, 3445, 314, 1125}).unsqueeze(0);
  for (const char* method : {"prompt_tuning", "prefix_tuning"}) {
    SCOPED_TRACE(method);
    auto adapter = methods::load_prompt_artifact(dir(method), *model_);
    PastKV state = adapter.state(*model_);
    ForwardArgs a;
    a.input_ids = ids;
    a.past = &state;
    auto via_state = model_->forward(a).logits[0];
    ForwardArgs b;
    torch::Tensor direct;
    if (std::string(method) == "prompt_tuning") {
      auto in = methods::prepend_soft_prompt(*model_, adapter.continuous->output(false), ids);
      b.input_embeds = in.embeds;
      direct = model_->forward(b).logits[0].narrow(0, adapter.continuous->n_virtual(), 4);
    } else {
      const ModelConfig& c = model_->config();
      PastKV p =
          past_from_flat(adapter.continuous->output(false), c.n_layer, c.n_head_kv, c.head_dim);
      b.input_ids = ids;
      b.past = &p;
      direct = model_->forward(b).logits[0];
    }
    EXPECT_LT((via_state - direct).abs().max().item<double>(), 1e-4);
  }
}

}  // namespace
}  // namespace ptune

namespace ptune {
namespace {

// The other direction: artifacts `ptune tune` trained (scripts/reference/make_ptune_interop.py),
// loaded by PEFT, gave these logits; ptune loading the same artifact must agree within 2e-3.
class PtuneToPeftTest : public PeftInteropTest,
                        public ::testing::WithParamInterface<const char*> {};

TEST_P(PtuneToPeftTest, PeftLogitsOfPtuneTrainedArtifact) {
  torch::InferenceMode guard;
  const std::string dir = test::data_path(std::string("ptune_smollm2/") + GetParam());
  auto adapter = methods::load_prompt_artifact(dir, *model_);
  EXPECT_EQ(adapter.continuous->n_virtual(), 8);
  auto g = nlohmann::json::parse(test::read_file(dir + "/logits.json"));
  const double worst = max_diff_through(adapter, g);
  std::printf(
      "[ peft ] ptune-trained %s (%s) loaded by PEFT: max |logit diff| %.3g over %zu inputs\n",
      GetParam(), adapter.method.c_str(), worst, g.at("inputs").size());
  EXPECT_LT(worst, kTol);
}

INSTANTIATE_TEST_SUITE_P(Methods, PtuneToPeftTest,
                         ::testing::Values("prompt_tuning", "p_tuning_mlp", "p_tuning_lstm",
                                           "prefix_tuning", "prefix_tuning_projection"));

}  // namespace
}  // namespace ptune
