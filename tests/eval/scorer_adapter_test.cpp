// Scoring through a prompt adapter: with `base` keys/values prepended (ScorerOptions::base), the
// fast path (shared prefix + one state per context, batched) equals a plain forward of each
// context + continuation after the same keys/values.
#include <gtest/gtest.h>

#include "ptune/eval/scorer.h"
#include "test_model.h"

namespace ptune::eval {
namespace {

TEST(ScorerAdapterTest, FastPathWithBaseEqualsPlainForwardAfterBase) {
  const Model& model = test::tiny_model();
  const ModelConfig& c = model.config();
  torch::manual_seed(3);
  PastKV base;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    base.keys.push_back(torch::randn({1, c.n_head_kv, 3, c.head_dim}));
    base.values.push_back(torch::randn({1, c.n_head_kv, 3, c.head_dim}));
  }
  // Ten shared tokens (a prefix group), then different suffixes; one- and two-token labels.
  std::vector<int32_t> shared = {4, 8, 15, 16, 23, 42, 5, 9, 17, 3};
  std::vector<ScoreRequest> reqs;
  for (int i = 0; i < 5; ++i) {
    ScoreRequest r;
    r.context = shared;
    for (int k = 0; k <= i; ++k) r.context.push_back(10 + i + k);
    r.continuations = {{20}, {21, 22}};
    reqs.push_back(r);
  }
  ScorerOptions opt;
  opt.batch_size = 2;
  opt.base = &base;
  ContinuationScorer scorer(model, opt);
  auto fast = scorer.score(reqs);
  EXPECT_EQ(scorer.stats().groups, 1u);

  torch::InferenceMode guard;
  for (size_t i = 0; i < reqs.size(); ++i) {
    for (size_t j = 0; j < reqs[i].continuations.size(); ++j) {
      std::vector<int64_t> seq(reqs[i].context.begin(), reqs[i].context.end());
      const auto& cont = reqs[i].continuations[j];
      seq.insert(seq.end(), cont.begin(), cont.end());
      ForwardArgs a;
      a.input_ids = torch::tensor(seq).unsqueeze(0);
      a.past = &base;
      auto logp = torch::log_softmax(model.forward(a).logits[0], -1);
      const int64_t n = static_cast<int64_t>(reqs[i].context.size());
      double expect = 0;
      for (size_t t = 0; t < cont.size(); ++t) expect += logp[n - 1 + t][cont[t]].item<double>();
      EXPECT_NEAR(fast[i][j].sum(), expect, 1e-4) << "request " << i << " label " << j;
    }
  }
}

}  // namespace
}  // namespace ptune::eval
