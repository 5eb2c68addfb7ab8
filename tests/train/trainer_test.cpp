// The trainer on a toy soft-prompt task: 4 virtual tokens prepended as input embeddings to
// fixed token sequences of the tiny random model, next-token loss on the sequences. Checks that
// the loss goes down, that gradient accumulation equals one big batch, that early stopping keeps
// the best parameters, and that a run killed with SIGKILL after a checkpoint and resumed ends
// bitwise identical (parameters and metrics log) to an uninterrupted run with the same seed.
//
// Shapes: B = batch, N = virtual tokens (4), T = sequence length (6), C = 32, V = 64.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>

#include "ptune/io/safetensors.h"
#include "ptune/model/model.h"
#include "ptune/train/trainer.h"
#include "test_model.h"

namespace ptune::train {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kVirtual = 4, kLen = 6, kExamples = 16;

class SoftPromptTest : public test::TinyModelTest {
 protected:
  static void SetUpTestSuite() {
    torch::manual_seed(123);
    data_ = new torch::Tensor(torch::randint(0, 64, {kExamples, kLen}, torch::kInt64));
  }
  static void TearDownTestSuite() {
    delete data_;
    data_ = nullptr;
  }
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("ptune_train_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The same initial soft prompt [N, C] every time.
  static torch::Tensor initial_prompt() {
    torch::manual_seed(7);
    return (torch::randn({kVirtual, 32}) * 0.5).set_requires_grad(true);
  }
  // Mean next-token cross-entropy of rows `rows` with the soft prompt in front: the output at
  // position N - 1 + t predicts token t.
  static torch::Tensor loss_on(const torch::Tensor& prompt, const torch::Tensor& rows) {
    torch::Tensor ids = data_->index_select(0, rows);  // [B, T]
    const int64_t b = ids.size(0);
    ForwardArgs a;
    a.input_embeds =
        torch::cat({prompt.unsqueeze(0).expand({b, kVirtual, 32}), model().embed(ids)}, 1);
    a.logits_at = LogitsAt::Positions;
    a.logit_positions = (torch::arange(kLen) + (kVirtual - 1)).unsqueeze(0).expand({b, kLen});
    torch::Tensor logits = model().forward(a).logits;  // [B, T, V]
    return torch::nn::functional::cross_entropy(logits.reshape({b * kLen, -1}), ids.reshape({-1}));
  }
  static LossFn loss_fn(const torch::Tensor& prompt) {
    return [prompt](const Batch& batch) { return loss_on(prompt, torch::tensor(batch.indices)); };
  }
  static double full_loss(const torch::Tensor& prompt) {
    torch::NoGradGuard g;
    return loss_on(prompt, torch::arange(kExamples)).item<double>();
  }
  TrainOptions options() const {
    TrainOptions o;
    o.batch_size = 4;
    o.max_steps = 10;
    o.lr = 0.1;
    o.warmup_steps = 2;
    o.schedule = Schedule::Cosine;
    o.max_grad_norm = 1.0;
    o.seed = 5;
    o.progress = eval::Progress::Mode::Off;
    return o;
  }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  static torch::Tensor* data_;
  fs::path dir_;
};
torch::Tensor* SoftPromptTest::data_ = nullptr;

TEST_F(SoftPromptTest, LossDecreases) {
  torch::Tensor prompt = initial_prompt();
  const double before = full_loss(prompt);
  TrainOptions o = options();
  o.max_steps = 40;
  o.metrics_path = file("metrics.jsonl");
  Trainer t({prompt}, loss_fn(prompt), kExamples, o);
  TrainResult r = t.run();
  const double after = full_loss(prompt);
  std::printf("loss on all examples: %.4f before, %.4f after 40 steps\n", before, after);
  EXPECT_EQ(r.steps, 40);
  ASSERT_EQ(r.log.size(), 40u);
  EXPECT_LT(after, before - 0.1) << "before " << before << " after " << after;
  EXPECT_DOUBLE_EQ(r.log[0].lr, 0.0);  // warmup starts at 0
  EXPECT_DOUBLE_EQ(r.log[2].lr, 0.1);
  EXPECT_GT(r.log[0].grad_norm, 0.0);
  // One JSONL line per step.
  std::string log = test::read_file(o.metrics_path);
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 40);
  EXPECT_NE(log.find("\"grad_norm\""), std::string::npos);
}

// A non-finite loss stops the run at that step, before it touches the parameters.
TEST_F(SoftPromptTest, NonFiniteLossStopsBeforeTheUpdate) {
  torch::Tensor prompt = initial_prompt();
  const LossFn good = loss_fn(prompt);
  auto nan_at_third = [good](const Batch& b) {
    const torch::Tensor l = good(b);
    return b.step == 2 ? l * std::nan("") : l;
  };
  Trainer t({prompt}, nan_at_third, kExamples, options());
  torch::Tensor after_two;
  t.set_on_step([&](const StepLog& s) {
    if (s.step == 2) after_two = prompt.detach().clone();
  });
  try {
    t.run();
    FAIL() << "a NaN loss was applied";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("step 3: the loss is"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nan"), std::string::npos) << e.what();
  }
  ASSERT_TRUE(after_two.defined());
  EXPECT_TRUE(torch::equal(prompt.detach(), after_two));
}

TEST_F(SoftPromptTest, DataOrderIsASeededPermutationPerEpoch) {
  std::vector<int64_t> a = Trainer::epoch_order(5, 0, 10), b = Trainer::epoch_order(5, 0, 10);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, Trainer::epoch_order(5, 1, 10));
  EXPECT_NE(a, Trainer::epoch_order(6, 0, 10));
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 10; ++i) EXPECT_EQ(sorted[static_cast<size_t>(i)], i);
  // Each epoch sees every example once.
  TrainOptions o = options();
  o.max_steps = 0;
  o.epochs = 2;
  o.batch_size = 5;  // 16 examples: 4 steps per epoch, the last one with 1 example
  std::vector<int64_t> seen(kExamples, 0);
  torch::Tensor p = torch::zeros({1}).set_requires_grad(true);
  Trainer t(
      {p},
      [&](const Batch& b) {
        for (int64_t i : b.indices) ++seen[static_cast<size_t>(i)];
        return (p * p).sum();
      },
      kExamples, o);
  EXPECT_EQ(t.run().steps, 8);
  for (int64_t n : seen) EXPECT_EQ(n, 2);
}

TEST_F(SoftPromptTest, AccumulationEqualsOneBigBatch) {
  auto train = [&](int64_t accumulation, std::vector<StepLog>* log) {
    torch::Tensor prompt = initial_prompt();
    TrainOptions o = options();
    o.batch_size = 8;
    o.accumulation = accumulation;
    o.max_steps = 3;
    o.max_grad_norm = 0.5;
    Trainer t({prompt}, loss_fn(prompt), kExamples, o);
    *log = t.run().log;
    return prompt.detach();
  };
  std::vector<StepLog> log1, log2;
  torch::Tensor one = train(1, &log1), two = train(2, &log2);
  const double diff = (one - two).abs().max().item<double>();
  std::printf("max |param(1 x 8) - param(2 x 4)| = %.3g\n", diff);
  EXPECT_LT(diff, 1e-6);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(log1[i].loss, log2[i].loss, 1e-6);
    EXPECT_NEAR(log1[i].grad_norm, log2[i].grad_norm, 1e-6);
  }
}

TEST_F(SoftPromptTest, EarlyStoppingKeepsTheBestParameters) {
  // Scripted metric (higher is better): best at step 4, a tie is no improvement, so patience 2
  // stops after the evaluation at step 8.
  const std::vector<double> metric = {0.5, 0.9, 0.7, 0.9, 0.95, 0.95, 0.95};
  torch::Tensor prompt = initial_prompt();
  TrainOptions o = options();
  torch::Tensor at_best;
  o.eval_every = 2;
  o.patience = 2;
  o.max_steps = 14;
  Trainer t({prompt}, loss_fn(prompt), kExamples, o);
  t.set_eval([&](int64_t step) {
    const double m = metric[static_cast<size_t>(step / 2 - 1)];
    if (step == 4) at_best = prompt.detach().clone();
    return m;
  });
  TrainResult r = t.run();
  EXPECT_TRUE(r.stopped_early);
  EXPECT_EQ(r.steps, 8);  // evaluations at 2, 4 (best), 6, 8 -> two without improvement
  EXPECT_EQ(r.best_step, 4);
  EXPECT_DOUBLE_EQ(r.best_metric, 0.9);
  ASSERT_TRUE(at_best.defined());
  EXPECT_TRUE(torch::equal(prompt.detach(), at_best));
}

// ---------------------------------------------------------------------------------------------
// Resume

struct Interrupted {};

class ResumeTest : public SoftPromptTest {
 protected:
  TrainOptions resume_options(const std::string& tag, int64_t checkpoint_every) const {
    TrainOptions o = options();
    o.max_steps = 12;
    o.batch_size = 6;  // 3 steps per epoch (the last with 4): crosses epochs, partial batches
    o.accumulation = 2;
    o.eval_every = 3;
    o.higher_is_better = false;
    o.patience = 3;
    o.keep_best = true;
    o.metrics_path = file(tag + ".jsonl");
    o.checkpoint_path = file(tag + ".ckpt");
    o.checkpoint_every = checkpoint_every;
    return o;
  }
  // Runs (or resumes, when its checkpoint exists) a training; `on_step` may interrupt it.
  TrainResult train(const std::string& tag, torch::Tensor prompt, int64_t checkpoint_every = 1,
                    std::function<void(const StepLog&)> on_step = nullptr) {
    Trainer t({prompt}, loss_fn(prompt), kExamples, resume_options(tag, checkpoint_every));
    t.set_eval([prompt](int64_t) { return full_loss(prompt); });
    if (on_step) t.set_on_step(on_step);
    t.resume(file(tag + ".ckpt"));
    return t.run();
  }
  void expect_same_as_uninterrupted(const torch::Tensor& resumed, const std::string& tag) {
    torch::Tensor prompt = initial_prompt();
    TrainResult full = train("full", prompt);
    EXPECT_EQ(full.steps, 12);
    EXPECT_TRUE(torch::equal(prompt.detach(), resumed.detach()))
        << "max diff " << (prompt - resumed).abs().max().item<double>();
    const std::string a = test::read_file(file("full.jsonl")),
                      b = test::read_file(file(tag + ".jsonl"));
    EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), 12);
    EXPECT_EQ(a, b);  // same losses, learning rates, norms and metrics, digit for digit
  }
  // The error resuming `o`'s trainer from `path` (a prompt with the initial values), "" when
  // none; a refused resume must leave the prompt and the step untouched.
  std::string resume_error(const TrainOptions& o, const std::string& path) {
    torch::Tensor prompt = initial_prompt();
    Trainer t({prompt}, loss_fn(prompt), kExamples, o);
    try {
      t.resume(path);
    } catch (const std::runtime_error& e) {
      EXPECT_TRUE(torch::equal(prompt, initial_prompt())) << "state changed by " << e.what();
      EXPECT_EQ(t.step(), 0);
      return e.what();
    }
    return "";
  }
};

TEST_F(ResumeTest, ResumeAfterSigkillMatchesUninterruptedRun) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // the child re-executes the binary
  // The child trains and kills itself right after step 5's checkpoint (mid-epoch, after the
  // evaluation at step 3). The parent resumes from the files on disk.
  EXPECT_EXIT(
      {
        train("killed", initial_prompt(), 1, [](const StepLog& s) {
          if (s.step == 5) std::raise(SIGKILL);
        });
        std::exit(0);
      },
      ::testing::KilledBySignal(SIGKILL), "");
  ASSERT_TRUE(fs::exists(file("killed.ckpt")));
  torch::Tensor prompt = initial_prompt();
  TrainResult r = train("killed", prompt);
  ASSERT_EQ(r.log.size(), 7u);  // steps 6..12
  EXPECT_EQ(r.log.front().step, 6);
  // The totals cover the whole run: 4 epochs of 16 examples, the killed call's time included.
  EXPECT_EQ(r.resumed_step, 5);
  EXPECT_EQ(r.train_examples, 4 * kExamples);
  double this_call = 0;
  for (const StepLog& s : r.log) this_call += s.seconds;
  EXPECT_GT(r.train_seconds, this_call);
  EXPECT_GT(r.resumed_seconds, 0.0);
  expect_same_as_uninterrupted(prompt, "killed");
}

TEST_F(ResumeTest, ResumeAfterDestroyedTrainerMatchesUninterruptedRun) {
  // Checkpoints every 2 steps; interrupted after step 7 (logged, not checkpointed): the resume
  // starts again from step 6 (after its evaluation) and drops step 7's line from the log.
  EXPECT_THROW(train("stopped", initial_prompt(), 2,
                     [](const StepLog& s) {
                       if (s.step == 7) throw Interrupted{};
                     }),
               Interrupted);
  const std::string before = test::read_file(file("stopped.jsonl"));
  EXPECT_EQ(std::count(before.begin(), before.end(), '\n'), 7);
  torch::Tensor prompt = initial_prompt();
  TrainResult r = train("stopped", prompt, 2);
  ASSERT_FALSE(r.log.empty());
  EXPECT_EQ(r.log.front().step, 7);
  expect_same_as_uninterrupted(prompt, "stopped");
}

TEST_F(ResumeTest, RefusesACheckpointOfAnotherRun) {
  torch::Tensor prompt = initial_prompt();
  TrainOptions o = resume_options("other", 1);
  o.max_steps = 2;
  Trainer(std::vector<torch::Tensor>{prompt}, loss_fn(prompt), kExamples, o).run();
  o.seed = 6;
  Trainer t({prompt}, loss_fn(prompt), kExamples, o);
  try {
    t.resume(o.checkpoint_path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("seed"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(t.resume(file("missing.ckpt")));
}

TEST_F(ResumeTest, RefusesEveryBadCheckpointFieldNamingIt) {
  torch::Tensor prompt = initial_prompt();
  TrainOptions o = resume_options("good", 1);
  o.max_steps = 4;
  o.eval_every = 0;
  o.patience = 0;
  Trainer(std::vector<torch::Tensor>{prompt}, loss_fn(prompt), kExamples, o).run();
  const safetensors::File good = safetensors::read_file(o.checkpoint_path);
  EXPECT_EQ(resume_error(o, o.checkpoint_path), "");  // the file itself resumes
  struct Case {
    std::string key, value;
  };
  const std::vector<Case> cases = {
      {"step", "-1"},           {"step", "abc"},          {"step", "999999"},
      {"step", "2x"},           {"step", "+2"},           {"step", ""},
      {"best_step", "-5"},      {"best_step", "3"},       {"evals_since_best", "-1"},
      {"has_best", "2"},        {"stopped", "yes"},       {"best_metric", "nan"},
      {"best_metric", "inf"},   {"best_metric", "x"},     {"log_bytes", "-1"},
      {"log_bytes", "999999"},  {"train_examples", "-1"}, {"train_examples", "99999"},
      {"train_seconds", "nan"}, {"run_seconds", "-1"},    {"version", "1"},
      {"format", "pt"},         {"setting.lr", "0.5"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.key + " = '" + c.value + "'");
    safetensors::File bad = good;
    bad.metadata[c.key] = c.value;
    const std::string path = file("bad.ckpt");
    safetensors::write_file(path, bad.tensors, bad.metadata);
    const std::string err = resume_error(o, path);
    // The field and its value, quoted (a setting: "name value (checkpoint: value)").
    const bool setting = c.key.rfind("setting.", 0) == 0;
    EXPECT_NE(err.find(setting ? c.key.substr(8) : c.key), std::string::npos) << err;
    EXPECT_NE(err.find(setting ? ": " + c.value + ")" : "'" + c.value + "'"), std::string::npos)
        << err;
  }
  // A missing field, and a tensor with a NaN.
  safetensors::File bad = good;
  bad.metadata.erase("step");
  safetensors::write_file(file("bad.ckpt"), bad.tensors, bad.metadata);
  EXPECT_NE(resume_error(o, file("bad.ckpt")).find("'step' missing"), std::string::npos);
  bad = good;
  for (safetensors::Tensor& t : bad.tensors) {
    if (t.name != "exp_avg.0") continue;
    const float nan = std::nanf("");
    std::memcpy(t.data.data(), &nan, sizeof nan);
  }
  safetensors::write_file(file("bad.ckpt"), bad.tensors, bad.metadata);
  EXPECT_NE(resume_error(o, file("bad.ckpt")).find("exp_avg.0 holds NaN"), std::string::npos);
}

TEST_F(ResumeTest, RefusesChangedSettingsNamingEach) {
  torch::Tensor prompt = initial_prompt();
  TrainOptions o = resume_options("settings", 1);
  o.max_steps = 2;
  o.fingerprint = {{"template", "default"}};
  Trainer(std::vector<torch::Tensor>{prompt}, loss_fn(prompt), kExamples, o).run();
  TrainOptions changed = o;
  changed.lr = 0.05;
  changed.warmup_steps = 1;
  changed.fingerprint["template"] = "bare";
  const std::string err = resume_error(changed, o.checkpoint_path);
  for (const char* want : {"lr 0.050000000000000003 (checkpoint: 0.10000000000000001)",
                           "warmup_steps 1 (checkpoint: 2)", "template bare (checkpoint: default)"})
    EXPECT_NE(err.find(want), std::string::npos) << err;
  EXPECT_EQ(err.find("seed"), std::string::npos) << err;  // only what changed
  // A fingerprint name the trainer uses itself is a programming error.
  o.fingerprint = {{"lr", "x"}};
  EXPECT_THROW(Trainer(std::vector<torch::Tensor>{prompt}, loss_fn(prompt), kExamples, o),
               std::invalid_argument);
}

}  // namespace
}  // namespace ptune::train
