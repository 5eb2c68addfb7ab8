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
#include "ptune/methods/adapter.h"
#include "ptune/methods/prefix_tuning.h"
#include "ptune/methods/prompt_tuning.h"
#include "test_util.h"

namespace ptune {
namespace {

constexpr double kTol = 2e-3;

class PeftInteropTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(test::default_model_path())) return;
    model_ = new LlamaModel(LlamaModel::load(test::default_model_path()));
  }
  static void TearDownTestSuite() { delete model_; }
  void SetUp() override {
    std::string path;
    if (!test::default_model(&path)) GTEST_SKIP() << "default model missing";
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
  // Max |ours - golden| over the golden's inputs, run through the adapter's keys/values (the
  // path generate, chat and eval take).
  static double max_diff_through(const methods::Adapter& adapter, const nlohmann::json& g) {
    PastKV state = adapter.prefix_state(*model_);
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
  static LlamaModel* model_;
};
LlamaModel* PeftInteropTest::model_ = nullptr;

TEST_F(PeftInteropTest, PromptTuningFromPeftGivesPeftLogits) {
  torch::InferenceMode guard;
  auto pt = methods::PromptTuning::load(dir("prompt_tuning"), model_->config());
  ASSERT_EQ(pt.n_virtual(), 8);
  auto g = golden("prompt_tuning");
  const int64_t stride = g.at("vocab_stride").get<int64_t>();
  double worst = 0;
  for (const auto& in : g.at("inputs")) {
    auto ids = torch::tensor(in.at("ids").get<std::vector<int64_t>>()).unsqueeze(0);
    auto inputs = pt.prepend(*model_, ids);
    ForwardArgs a;
    a.input_embeds = inputs.embeds;
    a.attention_mask = inputs.mask;
    auto logits = model_->forward(a).logits[0].narrow(0, pt.n_virtual(), ids.size(1));
    worst = std::max(worst, max_diff(logits, in.at("positions"), stride));
  }
  std::printf("[ peft ] prompt tuning: max |logit diff| vs PEFT %.3g over %zu inputs\n", worst,
              g.at("inputs").size());
  EXPECT_LT(worst, kTol);
}

TEST_F(PeftInteropTest, PrefixTuningFromPeftGivesPeftLogits) {
  torch::InferenceMode guard;
  auto pre = methods::PrefixTuning::load(dir("prefix_tuning"), model_->config());
  ASSERT_EQ(pre.n_virtual(), 4);
  auto g = golden("prefix_tuning");
  const int64_t stride = g.at("vocab_stride").get<int64_t>();
  double worst = 0;
  for (const auto& in : g.at("inputs")) {
    auto ids = torch::tensor(in.at("ids").get<std::vector<int64_t>>()).unsqueeze(0);
    PastKV past = pre.past(1);
    ForwardArgs a;
    a.input_ids = ids;
    a.past = &past;
    a.attention_mask = pre.extend_mask({}, 1, ids.size(1));
    worst = std::max(worst, max_diff(model_->forward(a).logits[0], in.at("positions"), stride));
  }
  std::printf("[ peft ] prefix tuning: max |logit diff| vs PEFT %.3g over %zu inputs\n", worst,
              g.at("inputs").size());
  EXPECT_LT(worst, kTol);
}

TEST_F(PeftInteropTest, PTuningFromPeftGivesPeftLogits) {
  torch::InferenceMode guard;
  auto adapter = methods::Adapter::load(dir("p_tuning"), model_->config());
  ASSERT_EQ(adapter.method(), "P_TUNING");
  ASSERT_EQ(adapter.n_virtual(), 6);
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
    if (std::string(method) == "prompt_tuning") {
      methods::PromptTuning::load(dir(method), model_->config()).save(out, model_->config(), base);
    } else {
      methods::PrefixTuning::load(dir(method), model_->config()).save(out, model_->config(), base);
    }
    expect_same_bytes(out + "/adapter_model.safetensors",
                      dir(method) + "/adapter_model.safetensors");
  }
  std::filesystem::remove_all(tmp);
}

TEST_F(PeftInteropTest, WrongMethodIsNamed) {
  try {
    methods::PrefixTuning::load(dir("prompt_tuning"), model_->config());
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("PROMPT_TUNING"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ptune

namespace ptune {
namespace {

// Inference through Adapter::prefix_state (what generate/chat use) equals the method's own path.
TEST_F(PeftInteropTest, AdapterPrefixStateMatchesTheMethodsOwnForward) {
  torch::InferenceMode guard;
  auto ids = torch::tensor({504, 3445, 314, 1125}).unsqueeze(0);
  for (const char* method : {"prompt_tuning", "prefix_tuning"}) {
    SCOPED_TRACE(method);
    auto adapter = methods::Adapter::load(dir(method), model_->config());
    PastKV state = adapter.prefix_state(*model_);
    ForwardArgs a;
    a.input_ids = ids;
    a.past = &state;
    auto via_state = model_->forward(a).logits[0];
    ForwardArgs b;
    torch::Tensor direct;
    if (std::string(method) == "prompt_tuning") {
      auto in = methods::PromptTuning::load(dir(method), model_->config()).prepend(*model_, ids);
      b.input_embeds = in.embeds;
      direct = model_->forward(b).logits[0].narrow(0, adapter.n_virtual(), 4);
    } else {
      auto pre = methods::PrefixTuning::load(dir(method), model_->config());
      PastKV p = pre.past(1);
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
  auto adapter = methods::Adapter::load(dir, model_->config());
  EXPECT_EQ(adapter.n_virtual(), 8);
  auto g = nlohmann::json::parse(test::read_file(dir + "/logits.json"));
  const double worst = max_diff_through(adapter, g);
  std::printf(
      "[ peft ] ptune-trained %s (%s) loaded by PEFT: max |logit diff| %.3g over %zu inputs\n",
      GetParam(), adapter.method().c_str(), worst, g.at("inputs").size());
  EXPECT_LT(worst, kTol);
}

INSTANTIATE_TEST_SUITE_P(Methods, PtuneToPeftTest,
                         ::testing::Values("prompt_tuning", "p_tuning_mlp", "p_tuning_lstm",
                                           "prefix_tuning", "prefix_tuning_projection"));

}  // namespace
}  // namespace ptune
