// Soft prompts and prefixes under padding (PEFT's issues #1093/#54: left padding put the soft
// prompt before the pads): a padded row must give exactly the logits of the same row unpadded,
// through PEFT's way (the soft prompt prepended as input embeddings) and through the way ptune
// runs every method (the prompt's keys/values as `past`, expanded over the batch).
#include <gtest/gtest.h>

#include "ptune/methods/prefix_tuning.h"
#include "ptune/methods/prompt_tuning.h"
#include "ptune/model/past_kv.h"
#include "test_model.h"

namespace ptune {
namespace {

class MethodPaddingTest : public test::TinyModelFixture<::testing::TestWithParam<bool>> {
 protected:
  // Row 1 ({7, 11, 2}) padded to length 6 on the left or the right; row 0 unpadded.
  static void padded_batch(bool left, torch::Tensor* ids, torch::Tensor* mask) {
    std::vector<int64_t> r1 = {7, 11, 2}, m1 = {1, 1, 1};
    r1.insert(left ? r1.begin() : r1.end(), 3, 0);
    m1.insert(left ? m1.begin() : m1.end(), 3, 0);
    *ids = torch::stack({torch::tensor({5, 9, 17, 3, 22, 8}), torch::tensor(r1)});
    *mask = torch::stack({torch::ones({6}, torch::kInt64), torch::tensor(m1)});
  }
  // Logits of {7, 11, 2} alone, then of the padded row 1, both after the prompt's one-row
  // `state` ([1, Hkv, N, D] per layer); returns max |difference|.
  static double padded_vs_alone_after(const PastKV& state, bool left) {
    const PastKV one = expand_past(state, 1);
    ForwardArgs s;
    s.input_ids = torch::tensor({7, 11, 2}).unsqueeze(0);
    s.past = &one;
    const torch::Tensor ref = model().forward(s).logits[0];

    torch::Tensor ids, mask;
    padded_batch(left, &ids, &mask);
    const PastKV two = expand_past(state, 2);
    ForwardArgs a;
    a.input_ids = ids;
    a.past = &two;
    a.attention_mask = methods::mask_with_prefix(state.length(), mask, 2, 6);
    const torch::Tensor out = model().forward(a).logits[1].narrow(0, left ? 3 : 0, 3);
    return (out - ref).abs().max().item<double>();
  }
};

TEST_P(MethodPaddingTest, PromptTuningPaddedRowEqualsUnpadded) {
  const bool left = GetParam();
  torch::manual_seed(0);
  const torch::Tensor soft = torch::randn({4, model().config().n_embd});
  auto single = methods::prepend_soft_prompt(model(), soft, torch::tensor({7, 11, 2}).unsqueeze(0));
  ForwardArgs s;
  s.input_embeds = single.embeds;
  auto ref = model().forward(s).logits[0].narrow(0, 4, 3);

  torch::Tensor ids, mask;
  padded_batch(left, &ids, &mask);
  auto in = methods::prepend_soft_prompt(model(), soft, ids, mask);
  ForwardArgs a;
  a.input_embeds = in.embeds;
  a.attention_mask = in.mask;
  auto out = model().forward(a).logits[1].narrow(0, left ? 3 + 4 : 4, 3);
  EXPECT_LT((out - ref).abs().max().item<double>(), 1e-5);
}

TEST_P(MethodPaddingTest, PromptTuningStatePaddedRowEqualsUnpadded) {
  torch::manual_seed(0);
  const methods::PromptEmbedding soft(torch::randn({4, model().config().n_embd}));
  EXPECT_LT(padded_vs_alone_after(soft.state(model(), /*training=*/false), GetParam()), 1e-5);
}

TEST_P(MethodPaddingTest, PrefixTuningPaddedRowEqualsUnpadded) {
  const ModelConfig& c = model().config();
  torch::manual_seed(0);
  const methods::PrefixEncoder pre(torch::randn({3, c.n_layer * 2 * c.n_head_kv * c.head_dim}), c);
  EXPECT_LT(padded_vs_alone_after(pre.state(model(), /*training=*/false), GetParam()), 1e-5);
}

TEST_P(MethodPaddingTest, GradientsReachOnlyTheTrainablePrompt) {
  const ModelConfig& c = model().config();
  auto soft = torch::randn({4, c.n_embd}).requires_grad_(true);
  torch::Tensor ids, mask;
  padded_batch(GetParam(), &ids, &mask);
  auto in = methods::prepend_soft_prompt(model(), soft, ids, mask);
  ForwardArgs a;
  a.input_embeds = in.embeds;
  a.attention_mask = in.mask;
  a.logits_at = LogitsAt::Last;
  model().forward(a).logits.logsumexp(-1).sum().backward();
  ASSERT_TRUE(soft.grad().defined());
  EXPECT_GT(soft.grad().abs().sum().item<double>(), 0.0);
  EXPECT_FALSE(model().token_embedding().grad().defined());
}

INSTANTIATE_TEST_SUITE_P(Padding, MethodPaddingTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Left" : "Right"; });

}  // namespace
}  // namespace ptune
