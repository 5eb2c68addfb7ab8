// AdamW against the update written out by hand, the learning-rate schedules at known points,
// global-norm clipping and option validation.
#include <gtest/gtest.h>

#include <cmath>

#include "ptune/train/optimizer.h"
#include "ptune/train/trainer.h"

namespace ptune::train {
namespace {

TEST(AdamWTest, MatchesHandWrittenUpdate) {
  AdamWOptions o;
  o.weight_decay = 0.1;
  torch::Tensor p = torch::tensor({1.0f, -2.0f}).set_requires_grad(true);
  AdamW opt({p}, o);
  // Reference in double, two steps with gradients g1 and g2.
  double ref[2] = {1.0, -2.0}, m[2] = {0, 0}, v[2] = {0, 0};
  const double g[2][2] = {{0.5, -1.0}, {0.25, 3.0}};
  const double lr = 0.01;
  for (int t = 1; t <= 2; ++t) {
    p.mutable_grad() =
        torch::tensor({static_cast<float>(g[t - 1][0]), static_cast<float>(g[t - 1][1])});
    opt.step(lr);
    for (int i = 0; i < 2; ++i) {
      ref[i] *= 1 - lr * o.weight_decay;
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g[t - 1][i];
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g[t - 1][i] * g[t - 1][i];
      const double mh = m[i] / (1 - std::pow(o.beta1, t)), vh = v[i] / (1 - std::pow(o.beta2, t));
      ref[i] -= lr * mh / (std::sqrt(vh) + o.eps);
    }
  }
  EXPECT_EQ(opt.step_count(), 2);
  EXPECT_NEAR(p[0].item<double>(), ref[0], 1e-6);
  EXPECT_NEAR(p[1].item<double>(), ref[1], 1e-6);
}

TEST(AdamWTest, RejectsTensorsWithoutGrad) {
  EXPECT_THROW(AdamW({torch::zeros({2})}), std::invalid_argument);
}

TEST(AdamWTest, LoadStateChecksShapes) {
  torch::Tensor p = torch::zeros({2, 3}).set_requires_grad(true);
  AdamW opt({p});
  EXPECT_THROW(opt.load_state({torch::zeros({3})}, {torch::zeros({2, 3})}, 1),
               std::invalid_argument);
  opt.load_state({torch::ones({2, 3})}, {torch::ones({2, 3})}, 5);
  EXPECT_EQ(opt.step_count(), 5);
  EXPECT_TRUE(torch::equal(opt.exp_avg()[0], torch::ones({2, 3})));
}

TEST(ScheduleTest, WarmupThenLinearDecay) {
  // transformers' get_linear_schedule_with_warmup(warmup=4, total=12) times lr 1.
  EXPECT_DOUBLE_EQ(lr_at(Schedule::Linear, 1.0, 0, 4, 12), 0.0);
  EXPECT_DOUBLE_EQ(lr_at(Schedule::Linear, 1.0, 1, 4, 12), 0.25);
  EXPECT_DOUBLE_EQ(lr_at(Schedule::Linear, 1.0, 4, 4, 12), 1.0);
  EXPECT_DOUBLE_EQ(lr_at(Schedule::Linear, 1.0, 8, 4, 12), 0.5);
  EXPECT_DOUBLE_EQ(lr_at(Schedule::Linear, 1.0, 11, 4, 12), 0.125);
  EXPECT_DOUBLE_EQ(lr_at(Schedule::Linear, 1.0, 12, 4, 12), 0.0);
  EXPECT_DOUBLE_EQ(lr_at(Schedule::Linear, 0.3, 2, 0, 4), 0.15);
}

TEST(ScheduleTest, WarmupThenCosineDecay) {
  EXPECT_DOUBLE_EQ(lr_at(Schedule::Cosine, 2.0, 2, 4, 12), 1.0);
  EXPECT_DOUBLE_EQ(lr_at(Schedule::Cosine, 2.0, 4, 4, 12), 2.0);
  EXPECT_NEAR(lr_at(Schedule::Cosine, 2.0, 8, 4, 12), 1.0, 1e-12);  // half-way: cos(pi/2)
  EXPECT_NEAR(lr_at(Schedule::Cosine, 2.0, 6, 4, 12), 1.0 + std::cos(M_PI / 4), 1e-12);
  EXPECT_NEAR(lr_at(Schedule::Cosine, 2.0, 12, 4, 12), 0.0, 1e-12);
}

TEST(ScheduleTest, ConstantAndNames) {
  EXPECT_DOUBLE_EQ(lr_at(Schedule::Constant, 0.5, 1, 2, 10), 0.25);
  EXPECT_DOUBLE_EQ(lr_at(Schedule::Constant, 0.5, 9, 2, 10), 0.5);
  EXPECT_EQ(schedule_from_name("cosine"), Schedule::Cosine);
  EXPECT_STREQ(schedule_name(Schedule::Linear), "linear");
  EXPECT_THROW(schedule_from_name("step"), std::invalid_argument);
}

TEST(ClipTest, ScalesToMaxNormAndReportsNormBefore) {
  torch::Tensor a = torch::zeros({2}).set_requires_grad(true);
  torch::Tensor b = torch::zeros({1}).set_requires_grad(true);
  torch::Tensor c = torch::zeros({1}).set_requires_grad(true);  // no gradient: skipped
  a.mutable_grad() = torch::tensor({3.0f, 0.0f});
  b.mutable_grad() = torch::tensor({4.0f});
  EXPECT_NEAR(clip_grad_norm({a, b, c}, 1.0), 5.0, 1e-9);
  const double after =
      std::sqrt(a.grad().pow(2).sum().item<double>() + b.grad().pow(2).sum().item<double>());
  EXPECT_NEAR(after, 1.0, 1e-6);
  EXPECT_NEAR(a.grad()[0].item<double>(), 0.6, 1e-6);
  // Below the limit or with clipping off: untouched.
  EXPECT_NEAR(clip_grad_norm({a, b}, 2.0), 1.0, 1e-6);
  EXPECT_NEAR(a.grad()[0].item<double>(), 0.6, 1e-6);
  b.mutable_grad() = torch::tensor({40.0f});
  EXPECT_NEAR(clip_grad_norm({b}, 0.0), 40.0, 1e-9);
  EXPECT_FLOAT_EQ(b.grad()[0].item<float>(), 40.0f);
}

TEST(TrainOptionsTest, ValidateNamesTheField) {
  TrainOptions o;
  o.batch_size = 6;
  o.accumulation = 4;
  try {
    o.validate();
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("accumulation"), std::string::npos) << e.what();
  }
  o.accumulation = 3;
  EXPECT_NO_THROW(o.validate());
  o.lr = -1;
  EXPECT_THROW(o.validate(), std::invalid_argument);
}

}  // namespace
}  // namespace ptune::train
