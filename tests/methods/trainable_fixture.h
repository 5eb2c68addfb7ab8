// The fixture the trainable-prompt tests share (trainable_test.cpp: encoders, initialisation,
// gradients; trainable_artifact_test.cpp: saved artifacts): the tiny random llama, a fresh
// temporary folder per test, parameter counts, max differences of tensors and of keys/values,
// and the check that a loss reaches every parameter through the frozen model.
//
// Tiny model: V = 64, C = 32, L = 2, Hkv = 2, D = 8 (so Hkv * D = 16, L * 2 * Hkv * D = 64).
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ptune/methods/p_tuning.h"
#include "ptune/methods/prefix_tuning.h"
#include "ptune/methods/prompt_artifact.h"
#include "ptune/methods/prompt_tuning.h"
#include "ptune/model/past_kv.h"
#include "test_model.h"

namespace ptune::methods {

// Not in an anonymous namespace: both files' tests must see the one fixture type.
class TrainableTest : public test::TinyModelTest {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ptune_trainable_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static const ModelConfig& cfg() { return model().config(); }
  static int64_t kv_dim() { return cfg().n_head_kv * cfg().head_dim; }
  static int64_t prefix_width() { return cfg().n_layer * 2 * kv_dim(); }
  static int64_t count(const std::vector<torch::Tensor>& ps) {
    int64_t n = 0;
    for (const torch::Tensor& p : ps) n += p.numel();
    return n;
  }
  static double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.detach() - b.detach()).abs().max().item<double>();
  }
  static double max_diff(const PastKV& a, const PastKV& b) {
    EXPECT_EQ(a.keys.size(), b.keys.size());
    double d = 0;
    for (size_t l = 0; l < a.keys.size() && l < b.keys.size(); ++l) {
      EXPECT_EQ(a.keys[l].sizes(), b.keys[l].sizes());
      EXPECT_EQ(a.values[l].sizes(), b.values[l].sizes());
      d = std::max(d, max_diff(a.keys[l], b.keys[l]));
      d = std::max(d, max_diff(a.values[l], b.values[l]));
    }
    return d;
  }
  static nlohmann::json read_config(const std::filesystem::path& dir) {
    return nlohmann::json::parse(test::read_file((dir / "adapter_config.json").string()));
  }
  // The output of the prompt saved in dir_, loaded back through the one artifact loader.
  torch::Tensor loaded_output() const {
    const PromptArtifact a = load_prompt_artifact(dir_.string(), model());
    if (!a.continuous) throw std::runtime_error(dir_.string() + " holds no continuous prompt");
    return a.continuous->output(false);
  }

  // The flat prefix [N, L * 2 * Hkv * D] as the model's per-layer keys/values.
  static PastKV as_past(const torch::Tensor& flat) {
    return past_from_flat(flat, cfg().n_layer, cfg().n_head_kv, cfg().head_dim);
  }

  // Checks that the prompt's output is [N, width], then back-propagates a loss through the
  // frozen model from the prompt's keys/values (state(), as training uses them) and checks that
  // every parameter, and no model weight, gets a gradient.
  static void expect_all_parameters_get_gradients(const TrainablePrompt& prompt, int64_t width) {
    for (const torch::Tensor& p : prompt.parameters()) {
      ASSERT_TRUE(p.requires_grad());
      if (p.grad().defined()) p.mutable_grad().zero_();
    }
    const torch::Tensor ids = torch::tensor({5, 9, 17, 3, 22, 8, 7, 11, 2, 1}).view({2, 5});
    const torch::Tensor out = prompt.output(/*training=*/true);
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{prompt.n_virtual(), width}));
    const PastKV past = expand_past(prompt.state(model(), /*training=*/true), 2);
    ForwardArgs a;
    a.input_ids = ids;
    a.past = &past;
    a.attention_mask = mask_with_prefix(prompt.n_virtual(), {}, 2, 5);
    model().forward(a).logits.sum().backward();
    const std::vector<torch::Tensor> params = prompt.parameters();
    for (size_t i = 0; i < params.size(); ++i) {
      ASSERT_TRUE(params[i].grad().defined()) << "parameter " << i;
      EXPECT_GT(params[i].grad().abs().sum().item<double>(), 0.0) << "parameter " << i;
    }
    EXPECT_FALSE(model().token_embedding().requires_grad());
    EXPECT_FALSE(model().token_embedding().grad().defined());
  }

  std::filesystem::path dir_;
};

}  // namespace ptune::methods
