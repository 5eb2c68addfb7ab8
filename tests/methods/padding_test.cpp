// Soft prompts and prefixes under padding (PEFT's issues #1093/#54: left padding put the soft
// prompt before the pads): a padded row must give exactly the logits of the same row unpadded.
#include <gtest/gtest.h>

#include <filesystem>

#include "ptune/methods/prefix_tuning.h"
#include "ptune/methods/prompt_tuning.h"
#include "test_util.h"

namespace ptune {
namespace {

class MethodPaddingTest : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() {
    path_ = test::write_tiny_llama({});
    model_ = new LlamaModel(LlamaModel::load(path_));
  }
  static void TearDownTestSuite() {
    delete model_;
    std::filesystem::remove(path_);
  }
  // Row 1 ({7, 11, 2}) padded to length 6 on the left or the right; row 0 unpadded.
  static void padded_batch(bool left, torch::Tensor* ids, torch::Tensor* mask) {
    std::vector<int64_t> r1 = {7, 11, 2}, m1 = {1, 1, 1};
    r1.insert(left ? r1.begin() : r1.end(), 3, 0);
    m1.insert(left ? m1.begin() : m1.end(), 3, 0);
    *ids = torch::stack({torch::tensor({5, 9, 17, 3, 22, 8}), torch::tensor(r1)});
    *mask = torch::stack({torch::ones({6}, torch::kInt64), torch::tensor(m1)});
  }
  static std::string path_;
  static LlamaModel* model_;
};
std::string MethodPaddingTest::path_;
LlamaModel* MethodPaddingTest::model_ = nullptr;

TEST_P(MethodPaddingTest, PromptTuningPaddedRowEqualsUnpadded) {
  const bool left = GetParam();
  torch::manual_seed(0);
  methods::PromptTuning pt(torch::randn({4, model_->config().n_embd}));
  auto single = pt.prepend(*model_, torch::tensor({7, 11, 2}).unsqueeze(0));
  ForwardArgs s;
  s.input_embeds = single.embeds;
  auto ref = model_->forward(s).logits[0].narrow(0, 4, 3);

  torch::Tensor ids, mask;
  padded_batch(left, &ids, &mask);
  auto in = pt.prepend(*model_, ids, mask);
  ForwardArgs a;
  a.input_embeds = in.embeds;
  a.attention_mask = in.mask;
  auto out = model_->forward(a).logits[1].narrow(0, left ? 3 + 4 : 4, 3);
  EXPECT_LT((out - ref).abs().max().item<double>(), 1e-5);
}

TEST_P(MethodPaddingTest, PrefixTuningPaddedRowEqualsUnpadded) {
  const bool left = GetParam();
  const LlamaConfig& c = model_->config();
  torch::manual_seed(0);
  methods::PrefixTuning pre(torch::randn({3, c.n_layer * 2 * c.n_head_kv * c.head_dim}), c);
  PastKV p1 = pre.past(1);
  ForwardArgs s;
  s.input_ids = torch::tensor({7, 11, 2}).unsqueeze(0);
  s.past = &p1;
  auto ref = model_->forward(s).logits[0];

  torch::Tensor ids, mask;
  padded_batch(left, &ids, &mask);
  PastKV p2 = pre.past(2);
  ForwardArgs a;
  a.input_ids = ids;
  a.past = &p2;
  a.attention_mask = pre.extend_mask(mask, 2, 6);
  auto out = model_->forward(a).logits[1].narrow(0, left ? 3 : 0, 3);
  EXPECT_LT((out - ref).abs().max().item<double>(), 1e-5);
}

TEST_P(MethodPaddingTest, GradientsReachOnlyTheTrainablePrompt) {
  const LlamaConfig& c = model_->config();
  auto soft = torch::randn({4, c.n_embd}).requires_grad_(true);
  methods::PromptTuning pt(soft);
  torch::Tensor ids, mask;
  padded_batch(GetParam(), &ids, &mask);
  auto in = pt.prepend(*model_, ids, mask);
  ForwardArgs a;
  a.input_embeds = in.embeds;
  a.attention_mask = in.mask;
  a.logits_at = LogitsAt::Last;
  model_->forward(a).logits.logsumexp(-1).sum().backward();
  ASSERT_TRUE(soft.grad().defined());
  EXPECT_GT(soft.grad().abs().sum().item<double>(), 0.0);
  EXPECT_FALSE(model_->token_embedding().grad().defined());
}

INSTANTIATE_TEST_SUITE_P(Padding, MethodPaddingTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Left" : "Right"; });

}  // namespace
}  // namespace ptune
