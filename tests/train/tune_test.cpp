// tune_prompt end to end on the real default model (skipped when it is missing): each method
// lowers its training loss on a fixed batch in a few steps and writes the PEFT artifact and the
// run record; the LM loss on a qa task; the tasks and options it refuses.
//
// Every run repeats one batch (train cut to the batch size), so the loss of the last step is
// comparable with the first.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ptune/io/gguf.h"
#include "ptune/tasks/task.h"
#include "ptune/train/output_dir.h"
#include "ptune/train/tune.h"
#include "test_model.h"

namespace ptune::train {
namespace {

namespace fs = std::filesystem;

class TuneTest : public ::testing::Test {
 protected:
  // The shared real model (test_model.h); null when it is missing, where SetUp skips.
  static void SetUpTestSuite() {
    if (const test::RealModel* real = test::real_model()) {
      model_ = real->model.get();
      tok_ = real->tokenizer.get();
    }
  }
  void SetUp() override {
    std::string model;
    if (!test::default_model(&model)) GTEST_SKIP() << "default model missing";
    ASSERT_NE(model_, nullptr);
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '_');  // parameterized names hold a '/'
    dir_ = fs::temp_directory_path() / ("ptune_tune_" + name);
    fs::remove_all(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // An example task with its train and dev splits cut to the first n_train / n_dev rows.
  static void load(const std::string& example, size_t n_train, size_t n_dev, tasks::TaskSpec* task,
                   tasks::TaskData* data) {
    *task = tasks::load_task(test::data_path("../../examples/" + example + "/task.json"));
    *data = tasks::load_task_data(*task);
    ASSERT_GE(data->train.size(), n_train);
    ASSERT_GE(data->dev.size(), n_dev);
    data->train.resize(n_train);
    data->dev.resize(n_dev);
  }

  // The method's defaults with 8 virtual tokens, set by option name as `ptune tune` sets them.
  static TuneOptions options(const std::string& method, int64_t batch, int64_t steps, double lr) {
    TuneOptions o;
    o.method = method;
    o.config = methods::method_named(method).make_config();
    methods::ConfigFields fields;
    o.config->describe(fields);
    fields.set("virtual-tokens", "8");
    o.train.batch_size = batch;
    o.train.max_steps = steps;
    o.train.lr = lr;
    o.train.seed = 3;
    o.train.progress = eval::Progress::Mode::Off;
    o.base_model = "SmolLM2-135M-Instruct";
    return o;
  }

  static std::string losses(const TrainResult& r) {
    std::ostringstream s;
    for (const StepLog& l : r.log) s << l.loss << " ";
    return s.str();
  }

  void expect_artifacts(const TuneResult& r, const std::string& method,
                        const std::string& loss_kind, const std::string& metric, int64_t steps) {
    EXPECT_TRUE(fs::exists(dir_ / "adapter_config.json"));
    EXPECT_TRUE(fs::exists(dir_ / "adapter_model.safetensors"));
    ASSERT_TRUE(fs::exists(dir_ / "ptune_train.json"));
    const nlohmann::json rec =
        nlohmann::json::parse(test::read_file((dir_ / "ptune_train.json").string()));
    EXPECT_EQ(rec, r.record);
    EXPECT_EQ(rec.at("method"), method);
    EXPECT_EQ(rec.at("method_config").at("virtual-tokens"), 8);
    EXPECT_EQ(rec.at("loss"), loss_kind);
    EXPECT_EQ(rec.at("steps"), steps);
    EXPECT_EQ(rec.at("dev_metric"), metric);
    EXPECT_GT(rec.at("train_examples_per_s").get<double>(), 0.0);
    ASSERT_TRUE(rec.contains("dev_" + metric));
    ASSERT_TRUE(rec.contains("dev_" + metric + "_before"));
    EXPECT_EQ(rec.at("dev_" + metric).get<double>(), r.dev_after);
    EXPECT_GT(rec.at("trainable_parameters").get<int64_t>(), 0);
    const nlohmann::json cfg =
        nlohmann::json::parse(test::read_file((dir_ / "adapter_config.json").string()));
    EXPECT_EQ(cfg.at("peft_type"), methods::method_named(method).peft_type);
    EXPECT_EQ(cfg.at("num_virtual_tokens"), 8);
    EXPECT_EQ(cfg.at("base_model_name_or_path"), "SmolLM2-135M-Instruct");
  }

  static const Tokenizer* tok_;
  static const Model* model_;
  fs::path dir_;
};
const Tokenizer* TuneTest::tok_ = nullptr;
const Model* TuneTest::model_ = nullptr;

struct MethodCase {
  const char* method;
  double lr;
};

class TuneMethodTest : public TuneTest, public ::testing::WithParamInterface<MethodCase> {};

TEST_P(TuneMethodTest, SentimentLossGoesDownAndArtifactsAreWritten) {
  tasks::TaskSpec task;
  tasks::TaskData data;
  load("sentiment", 8, 4, &task, &data);
  TuneOptions o = options(GetParam().method, 8, 5, GetParam().lr);
  o.out_dir = dir_.string();
  const TuneResult r = tune_prompt(task, data, *model_, *tok_, o);
  ASSERT_EQ(r.train.log.size(), 5u);
  EXPECT_EQ(r.train.steps, 5);
  for (const StepLog& l : r.train.log) EXPECT_EQ(l.examples, 8);
  const std::string trace = losses(r.train);
  EXPECT_LT(r.train.log.back().loss, r.train.log.front().loss) << trace;
  EXPECT_EQ(r.metric, "accuracy");
  EXPECT_GE(r.dev_after, 0.0);
  EXPECT_LE(r.dev_after, 1.0);
  EXPECT_FALSE(model_->token_embedding().requires_grad());
  expect_artifacts(r, GetParam().method, "first-token", "accuracy", 5);
}

INSTANTIATE_TEST_SUITE_P(Methods, TuneMethodTest,
                         ::testing::Values(MethodCase{"prompt-tuning", 3e-2},
                                           MethodCase{"p-tuning", 1e-3},
                                           MethodCase{"prefix-tuning", 3e-2}),
                         [](const auto& info) {
                           std::string name = info.param.method;
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

// With the same seed, prompt tuning's sampled-vocabulary embeddings and prefix tuning's
// keys/values of the same sampled tokens are the same prompt to the model: the first loss agrees.
TEST_F(TuneTest, PrefixInitMatchesTheSoftPromptOfTheSameTokens) {
  tasks::TaskSpec task;
  tasks::TaskData data;
  load("sentiment", 8, 0, &task, &data);
  const TuneResult soft =
      tune_prompt(task, data, *model_, *tok_, options("prompt-tuning", 8, 1, 3e-2));
  const TuneResult prefix =
      tune_prompt(task, data, *model_, *tok_, options("prefix-tuning", 8, 1, 3e-2));
  ASSERT_EQ(soft.train.log.size(), 1u);
  ASSERT_EQ(prefix.train.log.size(), 1u);
  EXPECT_NEAR(soft.train.log[0].loss, prefix.train.log[0].loss, 1e-4);
  EXPECT_GT(soft.train.log[0].loss, 0.0);
  // Prompt tuning learns N x C numbers, prefix tuning N x L x 2 x Hkv x D.
  const ModelConfig& c = model_->config();
  EXPECT_EQ(soft.trainable_parameters, 8 * c.n_embd);
  EXPECT_EQ(prefix.trainable_parameters, 8 * c.n_layer * 2 * c.n_head_kv * c.head_dim);
}

// Running the shared leading tokens once per batch is an optimisation, not an approximation: the
// first-step loss (and so the gradient's starting point) is the same with and without it, for a
// verbalizer and an LM loss, soft prompt and prefix.
TEST_F(TuneTest, SharedPrefixGivesTheSameLoss) {
  for (const char* example : {"sentiment", "short-qa"}) {
    tasks::TaskSpec task;
    tasks::TaskData data;
    const int64_t n = std::string(example) == "short-qa" ? 4 : 8;  // qa passages are long
    load(example, n, 0, &task, &data);
    for (const char* m : {"prompt-tuning", "prefix-tuning"}) {
      SCOPED_TRACE(std::string(example) + " " + m);
      TuneOptions o = options(m, n, 1, 3e-2);
      const double shared = tune_prompt(task, data, *model_, *tok_, o).train.log.at(0).loss;
      o.share_prefix = false;
      const double full = tune_prompt(task, data, *model_, *tok_, o).train.log.at(0).loss;
      EXPECT_NEAR(shared, full, 1e-4 * (1 + full));
      std::printf("[ tune ] %s %s first loss: shared prefix %.6f, full rows %.6f\n", example, m,
                  shared, full);
    }
  }
}

TEST_F(TuneTest, QaTrainsWithTheLanguageModelLoss) {
  tasks::TaskSpec task;
  tasks::TaskData data;
  load("short-qa", 4, 2, &task, &data);
  TuneOptions o = options("prompt-tuning", 4, 4, 3e-2);
  o.out_dir = dir_.string();
  const TuneResult r = tune_prompt(task, data, *model_, *tok_, o);
  ASSERT_EQ(r.train.log.size(), 4u);
  const std::string trace = losses(r.train);
  EXPECT_LT(r.train.log.back().loss, r.train.log.front().loss) << trace;
  EXPECT_EQ(r.metric, task.metrics.front());
  expect_artifacts(r, "prompt-tuning", "lm", task.metrics.front(), 4);
}

// Labels that share their first token (" mood red" / " mood blue": arbitrary words, so the
// untrained prompt knows nothing) train with the sequence loss by default: the loss goes down
// and the accuracy on the examples it learned from rises.
TEST_F(TuneTest, SharedFirstTokenLabelsTrainWithTheSequenceLoss) {
  tasks::TaskSpec task;
  tasks::TaskData data;
  load("sentiment", 8, 0, &task, &data);
  for (tasks::LabelSpec& l : task.labels)
    l.words = {l.name == "positive" ? "mood red" : "mood blue"};
  data.dev = data.train;
  TuneOptions o = options("prefix-tuning", 8, 12, 3e-2);
  o.train.eval_every = 12;
  o.out_dir = dir_.string();
  const TuneResult r = tune_prompt(task, data, *model_, *tok_, o);
  const std::string trace = losses(r.train);
  EXPECT_EQ(r.record.at("loss"), "sequence");
  EXPECT_LT(r.train.log.back().loss, 0.5 * r.train.log.front().loss) << trace;
  EXPECT_GT(r.dev_after, r.dev_before) << trace;
  std::printf("[ tune ] sequence loss %s; accuracy %.3f -> %.3f\n", trace.c_str(), r.dev_before,
              r.dev_after);
  expect_artifacts(r, "prefix-tuning", "sequence", "accuracy", 12);
}

// Gold label probability of every record of an evaluation (no calibration: the softmax of the
// label scores), and the gold word's token log-probs.
std::vector<double> gold_probs(const eval::EvalResult& r) {
  std::vector<double> p;
  for (const nlohmann::json& rec : r.records)
    p.push_back(rec.at("label_scores").at(rec.at("gold").get<std::string>()).at("prob"));
  return p;
}

// The two whole-label losses are what eval measures: before any update, the sequence loss is
// the mean -log p(gold label) of rank classification over the labels' full continuations, and
// the lm loss the mean -log-prob of the gold label's tokens, both for the same prompt as the
// eval harness scores (the learning rate is too small to move it).
TEST_F(TuneTest, WholeLabelLossesEqualTheEvalHarnessScores) {
  tasks::TaskSpec task;
  tasks::TaskData data;
  load("sentiment", 8, 0, &task, &data);
  for (tasks::LabelSpec& l : task.labels)
    l.words = {l.name == "positive" ? "mood red" : "mood blue"};
  data.dev = data.train;
  for (const char* m : {"prompt-tuning", "prefix-tuning"}) {
    SCOPED_TRACE(m);
    TuneOptions o = options(m, 8, 1, 1e-12);
    o.loss = Loss::Sequence;
    const TuneResult seq = tune_prompt(task, data, *model_, *tok_, o);
    double nll = 0;
    for (double p : gold_probs(seq.dev)) nll -= std::log(p) / 8;
    EXPECT_NEAR(seq.train.log.at(0).loss, nll, 1e-4 * (1 + nll));

    o.loss = Loss::Lm;
    const TuneResult lm = tune_prompt(task, data, *model_, *tok_, o);
    EXPECT_EQ(lm.record.at("loss"), "lm");
    double sum = 0;
    int tokens = 0;
    for (const nlohmann::json& rec : lm.dev.records) {
      for (const nlohmann::json& c : rec.at("continuations")) {
        if (c.at("label") != rec.at("gold")) continue;
        for (double lp : c.at("token_logprobs")) sum -= lp, ++tokens;
      }
    }
    ASSERT_EQ(tokens, 16);  // two tokens per gold word
    EXPECT_NEAR(lm.train.log.at(0).loss, sum / tokens, 1e-4 * (1 + sum / tokens));
    std::printf("[ tune ] %s first loss: sequence %.6f (eval %.6f), lm %.6f (eval %.6f)\n", m,
                seq.train.log[0].loss, nll, lm.train.log[0].loss, sum / tokens);
  }
}

// The message of what `f` throws as E ("" when it throws nothing).
template <typename E, typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

// A run killed after its first step's checkpoint: resumed with another --lr, --template or
// --warmup-steps it is refused naming the setting; resumed as it was, it ends, and the record
// counts both parts.
TEST_F(TuneTest, ResumeRefusesChangedSettingsAndTheRecordCoversTheWholeRun) {
  tasks::TaskSpec task;
  tasks::TaskData data;
  load("sentiment", 4, 0, &task, &data);
  fs::create_directories(dir_);
  TuneOptions o = options("prompt-tuning", 4, 2, 3e-2);
  o.out_dir = (dir_ / "out").string();
  o.train.checkpoint_path = (dir_ / "ckpt.safetensors").string();
  o.train.checkpoint_every = 1;
  TuneOptions killed = o;
  killed.on_step = [](const StepLog&) { throw std::runtime_error("killed"); };
  EXPECT_EQ(error_of<std::runtime_error>([&] { tune_prompt(task, data, *model_, *tok_, killed); }),
            "killed");
  ASSERT_TRUE(fs::exists(o.train.checkpoint_path));
  EXPECT_FALSE(fs::exists(dir_ / "out" / "adapter_config.json"));

  auto refused = [&](const TuneOptions& changed, const std::string& want) {
    const std::string err =
        error_of<std::runtime_error>([&] { tune_prompt(task, data, *model_, *tok_, changed); });
    EXPECT_NE(err.find(want), std::string::npos) << err;
  };
  TuneOptions c = o;
  c.train.lr = 1e-2;
  refused(c, "lr 0.01 (checkpoint: 0.029999999999999999)");
  c = o;
  c.template_name = "bare";
  refused(c, "template bare (checkpoint: default)");
  c = o;
  c.train.warmup_steps = 1;
  refused(c, "warmup_steps 1 (checkpoint: 0)");

  const TuneResult r = tune_prompt(task, data, *model_, *tok_, o);
  ASSERT_EQ(r.train.log.size(), 1u);  // step 2 only
  const nlohmann::json rec =
      nlohmann::json::parse(test::read_file((dir_ / "out" / "ptune_train.json").string()));
  EXPECT_EQ(rec.at("steps"), 2);
  EXPECT_EQ(rec.at("resumed_at_step"), 1);
  EXPECT_EQ(rec.at("train_examples"), 8);  // both steps' batches
  EXPECT_GT(rec.at("train_seconds").get<double>(), r.train.log[0].seconds);
  EXPECT_EQ(rec.at("lr"), 3e-2);
}

// Two runs on one output folder or one checkpoint: the second is refused at start. An adapter
// already in the folder is kept unless `force`, which replaces it and keeps the folder's other
// files.
TEST_F(TuneTest, SharedPathsAreLockedAndAnAdapterIsReplacedOnlyByForce) {
  tasks::TaskSpec task;
  tasks::TaskData data;
  load("sentiment", 4, 0, &task, &data);
  fs::create_directories(dir_);
  TuneOptions o = options("prompt-tuning", 4, 1, 3e-2);
  o.out_dir = (dir_ / "out").string();
  o.train.checkpoint_path = (dir_ / "ckpt.safetensors").string();
  int steps = 0;
  o.on_step = [&](const StepLog&) { ++steps; };
  auto run = [&] { tune_prompt(task, data, *model_, *tok_, o); };
  for (const std::string& held_path : {o.out_dir, o.train.checkpoint_path}) {
    PathLock held(held_path);  // as another ptune would
    const std::string err = error_of<std::runtime_error>(run);
    EXPECT_NE(err.find(held_path + " is in use: another ptune"), std::string::npos) << err;
  }
  fs::create_directories(o.out_dir);
  std::ofstream(dir_ / "out" / "adapter_config.json") << "old";
  std::ofstream(dir_ / "out" / "notes.txt") << "the user's";
  const std::string err = error_of<std::invalid_argument>(run);
  EXPECT_NE(err.find("already holds an adapter (adapter_config.json); pass --force"),
            std::string::npos)
      << err;
  EXPECT_EQ(steps, 0);  // refused before any training
  EXPECT_EQ(test::read_file((dir_ / "out" / "adapter_config.json").string()), "old");

  o.force = true;
  o.train.checkpoint_path.clear();
  run();
  EXPECT_EQ(steps, 1);
  EXPECT_NE(test::read_file((dir_ / "out" / "adapter_config.json").string()), "old");
  EXPECT_EQ(test::read_file((dir_ / "out" / "notes.txt").string()), "the user's");
  EXPECT_TRUE(fs::exists(dir_ / "out" / "ptune_train.json"));
  std::vector<std::string> left;  // no lock file, temporary or old folder behind
  for (const auto& e : fs::directory_iterator(dir_)) left.push_back(e.path().filename());
  EXPECT_EQ(left, std::vector<std::string>{"out"});
}

TEST_F(TuneTest, RefusesWhatItCannotTrain) {
  tasks::TaskSpec task;
  tasks::TaskData data;
  load("sentiment", 4, 0, &task, &data);
  TuneOptions o = options("prompt-tuning", 4, 1, 3e-2);
  // A template with {soft} slots.
  o.template_name = "soft";
  EXPECT_THROW(tune_prompt(task, data, *model_, *tok_, o), std::invalid_argument);
  // An unknown method, a config the method refuses, a dev metric that does not fit the task.
  o.template_name = "default";
  o.method = "lora";
  EXPECT_THROW(tune_prompt(task, data, *model_, *tok_, o), std::invalid_argument);
  o = options("prompt-tuning", 4, 1, 3e-2);
  methods::ConfigFields fields;
  o.config->describe(fields);
  fields.set("init", "text");  // without --init-text
  EXPECT_THROW(tune_prompt(task, data, *model_, *tok_, o), std::invalid_argument);
  o = options("prompt-tuning", 4, 1, 3e-2);
  o.eval_metric = "bleu";
  EXPECT_THROW(tune_prompt(task, data, *model_, *tok_, o), std::invalid_argument);
  // The first-token loss for labels whose first tokens collide.
  tasks::TaskSpec shared = task;
  for (tasks::LabelSpec& l : shared.labels) l.words = {"mood " + l.name};
  o = options("prompt-tuning", 4, 1, 3e-2);
  o.loss = Loss::FirstToken;
  EXPECT_THROW(tune_prompt(shared, data, *model_, *tok_, o), std::invalid_argument);
  // Bad training options.
  o = options("prompt-tuning", 4, 1, 3e-2);
  o.train.batch_size = 0;
  EXPECT_THROW(tune_prompt(task, data, *model_, *tok_, o), std::invalid_argument);
  // A multiple-choice task.
  const tasks::TaskSpec mc = tasks::parse_task(
      R"({"name": "mc", "type": "multiple_choice", "template": "{question}\n{choices}\nAnswer:",
          "data": {"file": "mc.jsonl"}})",
      "test", "/tmp");
  tasks::TaskData mc_data;
  tasks::Example q;
  q.fields = {{"question", "Sky colour?"}, {"label", "1"}};
  q.lists["choices"] = {"green", "blue"};
  mc_data.train = {q};
  o.train.batch_size = 1;
  EXPECT_THROW(tune_prompt(mc, mc_data, *model_, *tok_, o), std::invalid_argument);
}

}  // namespace
}  // namespace ptune::train
