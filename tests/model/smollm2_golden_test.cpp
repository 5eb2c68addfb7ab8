// The real default model against transformers (same GGUF, dequantized, fp32):
// logits at every position, single and batched with left or right padding, and 48-token greedy
// generation. Golden data: tests/data/reference/smollm2_logits.json, made by
// scripts/reference/make_logits_golden.py.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "ptune/generate/generator.h"
#include "ptune/io/gguf.h"
#include "ptune/model/model.h"
#include "ptune/tokenizer/tokenizer.h"
#include "test_model.h"

namespace ptune {
namespace {

constexpr double kLogitTol = 2e-3;  // the runtime's reference tolerance (issue 2)
constexpr double kNearTie = 1e-3;   // a greedy flip is accepted only under this margin

struct GoldenPrompt {
  std::vector<int64_t> ids;
  nlohmann::json positions;
  std::vector<int32_t> greedy;
  std::vector<double> margins;
};

class SmolLM2GoldenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const test::RealModel* real = test::real_model();  // shared, see test_model.h
    if (real == nullptr) return;                       // each test then skips or fails in SetUp
    file_ = real->file.get();
    model_ = real->model.get();
    auto j =
        nlohmann::json::parse(test::read_file(test::data_path("reference/smollm2_logits.json")));
    stride_ = j.at("vocab_stride").get<int64_t>();
    for (auto& p : j.at("prompts")) {
      prompts_.push_back({p.at("ids").get<std::vector<int64_t>>(), p.at("positions"),
                          p.at("greedy_ids").get<std::vector<int32_t>>(),
                          p.at("greedy_margins").get<std::vector<double>>()});
    }
  }
  void SetUp() override {
    std::string path;
    if (!test::default_model(&path)) GTEST_SKIP() << "default model missing";
    ASSERT_NE(model_, nullptr);
  }

  // Max |ours - golden| at the golden's top-10 and strided vocabulary entries; ours: [T, V].
  static double max_diff(const torch::Tensor& ours, const nlohmann::json& positions) {
    auto o = ours.contiguous();
    return test::max_golden_logit_diff(o.data_ptr<float>(), o.size(1), positions, stride_);
  }

  static const gguf::GgufFile* file_;
  static const Model* model_;
  static int64_t stride_;
  static std::vector<GoldenPrompt> prompts_;
};
const gguf::GgufFile* SmolLM2GoldenTest::file_ = nullptr;
const Model* SmolLM2GoldenTest::model_ = nullptr;
int64_t SmolLM2GoldenTest::stride_ = 0;
std::vector<GoldenPrompt> SmolLM2GoldenTest::prompts_;

TEST_F(SmolLM2GoldenTest, SinglePromptLogitsMatchTransformers) {
  torch::InferenceMode guard;
  ASSERT_GE(prompts_.size(), 6u);
  double overall = 0;
  for (size_t i = 0; i < prompts_.size(); ++i) {
    ForwardArgs a;
    a.input_ids = torch::tensor(prompts_[i].ids).unsqueeze(0);
    double d = max_diff(model_->forward(a).logits[0], prompts_[i].positions);
    EXPECT_LT(d, kLogitTol) << "prompt " << i;
    overall = std::max(overall, d);
  }
  std::printf("[ smollm2 ] single-prompt max |logit diff| vs transformers: %.3g\n", overall);
}

// The opt-in bfloat16 matmul path trades accuracy for speed: it must still pick the same top
// token almost everywhere and stay within a loose logit tolerance.
TEST_F(SmolLM2GoldenTest, Bfloat16MatmulsStayCloseToTransformers) {
  torch::InferenceMode guard;
  std::unique_ptr<Model> bf16 = model_from_gguf(*file_, torch::kCPU, torch::kBFloat16);
  double overall = 0;
  int64_t positions = 0, top1_same = 0;
  for (size_t i = 0; i < prompts_.size(); ++i) {
    ForwardArgs a;
    a.input_ids = torch::tensor(prompts_[i].ids).unsqueeze(0);
    auto logits = bf16->forward(a).logits[0];
    overall = std::max(overall, max_diff(logits, prompts_[i].positions));
    auto argmax = logits.argmax(-1);
    for (size_t t = 0; t < prompts_[i].positions.size(); ++t, ++positions) {
      top1_same +=
          argmax[t].item<int64_t>() == prompts_[i].positions[t].at("top_ids")[0].get<int64_t>();
    }
  }
  std::printf("[ smollm2 ] bfloat16 matmuls: max |logit diff| %.3g, top-1 agreement %lld/%lld\n",
              overall, static_cast<long long>(top1_same), static_cast<long long>(positions));
  // Measured: 0.69 max, 400/403 (the 3 flips are near-ties).
  EXPECT_LT(overall, 1.0);
  EXPECT_GE(top1_same * 100, positions * 98);
}

TEST_F(SmolLM2GoldenTest, BatchedPaddedLogitsMatchTransformers) {
  torch::InferenceMode guard;
  const int64_t B = static_cast<int64_t>(prompts_.size());
  int64_t T = 0;
  for (auto& p : prompts_) T = std::max<int64_t>(T, p.ids.size());
  const int64_t pad = file_->get_int("tokenizer.ggml.padding_token_id", 0);
  for (bool left : {false, true}) {
    auto ids = torch::full({B, T}, pad, torch::kInt64);
    auto mask = torch::zeros({B, T}, torch::kInt64);
    for (int64_t b = 0; b < B; ++b) {
      int64_t n = prompts_[b].ids.size(), off = left ? T - n : 0;
      ids[b].narrow(0, off, n).copy_(torch::tensor(prompts_[b].ids));
      mask[b].narrow(0, off, n).fill_(1);
    }
    ForwardArgs a;
    a.input_ids = ids;
    a.attention_mask = mask;
    auto logits = model_->forward(a).logits;
    double overall = 0;
    for (int64_t b = 0; b < B; ++b) {
      int64_t n = prompts_[b].ids.size(), off = left ? T - n : 0;
      double d = max_diff(logits[b].narrow(0, off, n), prompts_[b].positions);
      EXPECT_LT(d, kLogitTol) << (left ? "left" : "right") << " padding, prompt " << b;
      overall = std::max(overall, d);
    }
    std::printf("[ smollm2 ] batch %lld, %s padding: max |logit diff| %.3g\n",
                static_cast<long long>(B), left ? "left" : "right", overall);
  }
}

TEST_F(SmolLM2GoldenTest, GreedyGenerationMatchesTransformers) {
  Tokenizer tok = Tokenizer::from_gguf(*file_);
  GenerateOptions opt;
  opt.max_tokens = 48;
  opt.stop_at_end_of_generation = false;  // the golden continues past EOS
  for (size_t i = 0; i < prompts_.size(); ++i) {
    const auto& p = prompts_[i];
    std::vector<int32_t> prompt(p.ids.begin(), p.ids.end());
    auto r = generate(*model_, tok, prompt, opt);
    ASSERT_EQ(r.tokens.size(), p.greedy.size()) << "prompt " << i;
    for (size_t t = 0; t < p.greedy.size(); ++t) {
      if (r.tokens[t] == p.greedy[t]) continue;
      // After a near-tie the sequences legitimately diverge; anything else is a bug.
      EXPECT_LT(p.margins[t], kNearTie) << "prompt " << i << " step " << t << ": got "
                                        << r.tokens[t] << ", transformers " << p.greedy[t];
      std::printf("[ smollm2 ] prompt %zu: near-tie flip at step %zu (margin %.2g)\n", i, t,
                  p.margins[t]);
      break;
    }
  }
}

}  // namespace
}  // namespace ptune
