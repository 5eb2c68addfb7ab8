// run_eval wiring on a tiny random llama with a byte-level tokenizer (no model file needed):
// per-label scores equal the naive loop's, metrics agree with the records, calibration math on
// hand values, bad options give clear errors; and on the real model (skipped when absent) the
// fast path matches the naive loop on real 5-shot sentiment prompts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "ptune/eval/calibration.h"
#include "ptune/eval/evaluator.h"
#include "ptune/io/gguf.h"
#include "ptune/tasks/errors.h"
#include "test_util.h"
#include "tokenizer/tiny_vocab.h"

namespace ptune::eval {
namespace {

struct Tiny {
  std::unique_ptr<Model> model;
  Tokenizer tok;
};

const Tiny& tiny() {
  static Tiny t = [] {
    test::TinyLlama spec;
    spec.n_vocab = 256;  // the 256 byte tokens
    return Tiny{load_model(test::write_tiny_llama(spec)), Tokenizer(test::byte_vocab())};
  }();
  return t;
}

tasks::Example ex(const std::string& text, const std::string& label, int line) {
  tasks::Example e;
  e.fields = {{"text", text}, {"label", label}};
  e.source = "mem.jsonl";
  e.line = line;
  return e;
}

tasks::TaskSpec classification_task(bool calibration) {
  const std::string json = std::string(R"({
    "name": "tiny", "type": "classification", "instruction": "Rate it.",
    "template": "{instruction}\n{demos}T: {text}\nL:",
    "templates": {"bare": "T: {text}\nL:", "soft": "{soft:4}T: {text}\nL:"},
    "labels": {"pos": ["good", "fine"], "neg": "bad"},
    "metrics": ["accuracy", "macro_f1", "per_class", "confusion_matrix", "nll", "perplexity"],
    "data": {"train": "train.jsonl", "test": "test.jsonl"},
    "few_shot": {"k": 0, "selection": "stratified", "template": "T: {text}\nL: {target}",
                 "separator": "\n"},
    "scoring": {"normalize": "sum", "calibration": )") +
                           (calibration ? "true" : "false") + "}}";
  return tasks::parse_task(json, "tiny.json", "/tmp");
}

tasks::TaskData tiny_data() {
  tasks::TaskData d;
  d.train = {ex("nice", "pos", 1), ex("awful", "neg", 2), ex("great", "pos", 3),
             ex("poor", "neg", 4)};
  const char* texts[] = {"ok", "meh", "superb stuff", "no", "lovely", "dire", "x", "fab!"};
  for (int i = 0; i < 8; ++i) d.test.push_back(ex(texts[i], i % 2 ? "neg" : "pos", i + 1));
  return d;
}

TEST(Calibration, HandValues) {
  auto lp = log_normalize({std::log(1.0), std::log(3.0)});
  EXPECT_NEAR(std::exp(lp[0]), 0.25, 1e-12);
  EXPECT_NEAR(std::exp(lp[1]), 0.75, 1e-12);
  // Content-free distributions (0.2, 0.8) and (0.4, 0.6): mean prior (0.3, 0.7).
  auto prior =
      content_free_log_prior({{std::log(0.2), std::log(0.8)}, {std::log(4.0), std::log(6.0)}});
  EXPECT_NEAR(std::exp(prior[0]), 0.3, 1e-12);
  EXPECT_NEAR(std::exp(prior[1]), 0.7, 1e-12);
  // q ~ (0.25 / 0.3, 0.75 / 0.7) = (0.4375, 0.5625).
  auto q = calibrate({std::log(0.25), std::log(0.75)}, prior);
  EXPECT_NEAR(std::exp(q[0]), 0.4375, 1e-12);
  EXPECT_NEAR(std::exp(q[1]), 0.5625, 1e-12);
  // A uniform prior changes nothing.
  auto same = calibrate({-1.0, -2.0}, {std::log(0.5), std::log(0.5)});
  EXPECT_NEAR(std::exp(same[0]), 1 / (1 + std::exp(-1.0)), 1e-12);
  EXPECT_EQ(argmax({1, 3, 3, 2}), 1u);
  EXPECT_THROW(calibrate({1, 2}, {0}), std::invalid_argument);
  EXPECT_THROW(content_free_log_prior({}), std::invalid_argument);
}

TEST(Evaluator, ScoresMatchNaiveAndMetricsMatchRecords) {
  for (bool calibration : {false, true}) {
    const auto task = classification_task(calibration);
    const auto data = tiny_data();
    EvalOptions o;
    o.shots = 2;
    o.show_prompt = true;
    o.scorer.batch_size = 3;
    o.scorer.min_prefix = 2;
    o.bootstrap_resamples = 200;
    const EvalResult r = run_eval(task, data, *tiny().model, tiny().tok, o);
    ASSERT_EQ(r.records.size(), 8u);
    size_t correct = 0;
    for (const auto& rec : r.records) {
      // Every continuation's log-probs against one plain forward over prompt + continuation.
      ScoreRequest req;
      req.context = tiny().tok.encode(rec["prompt"].get<std::string>());
      for (const auto& c : rec["continuations"]) {
        req.continuations.push_back(
            tiny().tok.encode(c["continuation"].get<std::string>(), false, false));
      }
      ASSERT_EQ(req.continuations.size(), 3u);  // " good", " fine", " bad"
      const auto naive = score_naive(*tiny().model, {req})[0];
      std::map<std::string, double> best;
      for (size_t j = 0; j < naive.size(); ++j) {
        const auto& got = rec["continuations"][j]["token_logprobs"];
        ASSERT_EQ(got.size(), naive[j].token_logprobs.size());
        for (size_t t = 0; t < got.size(); ++t) {
          EXPECT_NEAR(got[t].get<double>(), naive[j].token_logprobs[t], 1e-4);
        }
        const std::string label = rec["continuations"][j]["label"];
        best[label] = best.count(label) ? std::max(best[label], naive[j].sum()) : naive[j].sum();
      }
      for (const auto& [label, s] : best) {
        EXPECT_NEAR(rec["label_scores"][label]["score"].get<double>(), s, 1e-4);
      }
      if (!calibration) {
        EXPECT_EQ(rec["prediction"], best["pos"] >= best["neg"] ? "pos" : "neg");
      } else {
        EXPECT_TRUE(rec.contains("calibration_prior"));
      }
      correct += rec["correct"].get<bool>();
    }
    ASSERT_GE(r.headline.size(), 4u);
    EXPECT_EQ(r.headline[0].name, "accuracy");
    EXPECT_NEAR(r.headline[0].ci.value, correct / 8.0, 1e-12);
    for (const auto& m : r.headline) {
      EXPECT_LE(m.ci.low, m.ci.value + 1e-12) << m.name;
      EXPECT_GE(m.ci.high, m.ci.value - 1e-12) << m.name;
    }
    EXPECT_EQ(r.headline[1].name, "macro_f1");
    EXPECT_EQ(r.headline[2].name, "nll");
    EXPECT_NEAR(r.headline[3].ci.value, std::exp(r.headline[2].ci.value), 1e-9);
    const auto& cm = r.summary["metrics"]["confusion_matrix"]["counts"];
    EXPECT_EQ(cm[0][0].get<size_t>() + cm[1][1].get<size_t>(), correct);
    EXPECT_EQ(r.summary["engine"]["prefix_groups"].get<size_t>(), 1u);
    EXPECT_FALSE(format_report(r).empty());
  }
}

TEST(Evaluator, PrefixCacheDoesNotChangeResults) {
  const auto task = classification_task(false);
  EvalOptions a, b;
  a.shots = b.shots = 2;
  a.scorer.min_prefix = 2;
  b.scorer.prefix_cache = false;
  b.scorer.batch_size = 1;
  const auto ra = run_eval(task, tiny_data(), *tiny().model, tiny().tok, a);
  const auto rb = run_eval(task, tiny_data(), *tiny().model, tiny().tok, b);
  for (size_t i = 0; i < ra.records.size(); ++i) {
    EXPECT_EQ(ra.records[i]["prediction"], rb.records[i]["prediction"]);
    for (const char* l : {"pos", "neg"}) {
      EXPECT_NEAR(ra.records[i]["label_scores"][l]["score"].get<double>(),
                  rb.records[i]["label_scores"][l]["score"].get<double>(), 1e-4);
    }
  }
}

// classify() (serve's /v1/classify) gives run_eval's label probabilities for the same texts,
// without gold labels, with demos and calibration.
TEST(Evaluator, ClassifyMatchesEvalWithoutGoldLabels) {
  for (bool calibration : {false, true}) {
    SCOPED_TRACE(calibration);
    const auto task = classification_task(calibration);
    const tasks::TaskData data = tiny_data();
    EvalOptions o;
    o.shots = 2;
    const EvalResult r = run_eval(task, data, *tiny().model, tiny().tok, o);
    std::vector<tasks::Example> inputs;
    for (const tasks::Example& e : data.test) {
      tasks::Example in = e;
      in.fields.erase("label");
      inputs.push_back(in);
    }
    const auto got = classify(task, data, *tiny().model, tiny().tok, inputs, o);
    ASSERT_EQ(got.size(), data.test.size());
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].labels.size(), 2u);
      EXPECT_GE(got[i].labels[0].second, got[i].labels[1].second);  // best first
      EXPECT_EQ(got[i].labels[0].first, r.records[i]["prediction"]);
      double total = 0;
      for (const auto& [label, p] : got[i].labels) {
        EXPECT_NEAR(p, r.records[i]["label_scores"][label]["prob"].get<double>(), 1e-9);
        total += p;
      }
      EXPECT_NEAR(total, 1.0, 1e-9);
    }
  }
  tasks::TaskSpec generation = classification_task(false);
  generation.type = tasks::TaskType::Generation;
  EXPECT_THROW(classify(generation, tiny_data(), *tiny().model, tiny().tok, {}, {}),
               std::invalid_argument);
}

TEST(Evaluator, GenerationIsReproducibleAndCached) {
  const std::string json = R"({
    "name": "tinyqa", "type": "qa", "instruction": "Answer.",
    "template": "{instruction}\n{demos}Q: {question}\nA:",
    "metrics": ["exact_match", "token_f1", "bleu", "chrf", "rouge_l", "nll", "rubric"],
    "judge": {"prompt": "Q: {input}\nA: {prediction}\nRef: {reference}\nScore (1-5):"},
    "data": {"train": "train.jsonl", "test": "test.jsonl"},
    "few_shot": {"k": 1, "selection": "random", "template": "Q: {question}\nA: {target}"},
    "generation": {"max_tokens": 5, "stop": ["\n"], "temperature": 0.8}})";
  const auto task = tasks::parse_task(json, "qa.json", "/tmp");
  tasks::TaskData d;
  for (int i = 0; i < 5; ++i) {
    tasks::Example e;
    e.fields = {{"question", "q" + std::to_string(i)}, {"answer", "a" + std::to_string(i)}};
    e.source = "m";
    e.line = i + 1;
    d.train.push_back(e);
    d.test.push_back(e);
  }
  EvalOptions o;
  o.seed = 7;
  o.scorer.min_prefix = 2;
  const auto r1 = run_eval(task, d, *tiny().model, tiny().tok, o);
  const auto r2 = run_eval(task, d, *tiny().model, tiny().tok, o);
  // Prompt heads kept across runs (ptune search's PrefixMemo): the same answers, the heads reused.
  PrefixMemo memo;
  o.scorer.prefixes = &memo;
  run_eval(task, d, *tiny().model, tiny().tok, o);
  const size_t computed = memo.misses();
  const auto r4 = run_eval(task, d, *tiny().model, tiny().tok, o);
  EXPECT_GT(computed, 0u);
  EXPECT_EQ(memo.misses(), computed);
  EXPECT_GT(memo.hits(), 0u);
  o.scorer.prefixes = nullptr;
  o.scorer.prefix_cache = false;
  const auto r3 = run_eval(task, d, *tiny().model, tiny().tok, o);
  ASSERT_EQ(r1.records.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(r1.records[i]["prediction"], r2.records[i]["prediction"]);
    EXPECT_EQ(r1.records[i]["prediction"], r3.records[i]["prediction"]);
    EXPECT_EQ(r1.records[i]["prediction"], r4.records[i]["prediction"]);
  }
  std::vector<std::string> names;
  for (const auto& m : r1.headline) names.push_back(m.name);
  EXPECT_EQ(names, (std::vector<std::string>{"exact_match", "token_f1", "bleu", "chrf", "rouge_l",
                                             "nll", "rubric"}));
  double sum = 0;
  for (const auto& rec : r1.records) {
    const double g = rec["rubric"]["score"].get<double>();
    EXPECT_GE(g, 1);
    EXPECT_LE(g, 5);
    EXPECT_EQ(g, std::round(g));
    sum += g;
  }
  EXPECT_NEAR(r1.headline[6].ci.value, sum / 5, 1e-12);
}

TEST(Evaluator, BadOptionsAreClearErrors) {
  const auto task = classification_task(false);
  const auto data = tiny_data();
  auto error_of = [&](EvalOptions o) -> std::string {
    try {
      run_eval(task, data, *tiny().model, tiny().tok, o);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  };
  EvalOptions o;
  o.split = "validation";
  EXPECT_NE(error_of(o).find("unknown split 'validation'"), std::string::npos);
  o = {};
  o.split = "dev";
  EXPECT_NE(error_of(o).find("split 'dev' has no examples"), std::string::npos);
  o = {};
  o.template_name = "nope";
  EXPECT_NE(error_of(o).find("unknown template 'nope'"), std::string::npos);
  o = {};
  o.template_name = "bare";
  EXPECT_EQ(error_of(o), "");
  o.shots = 2;
  EXPECT_NE(error_of(o).find("has no {demos} placeholder"), std::string::npos);
  o.shots = 0;
  o.template_name = "soft";
  EXPECT_NE(error_of(o).find("soft-token slots"), std::string::npos);
  o = {};
  o.shots = 10;  // the train split holds 4
  EXPECT_FALSE(error_of(o).empty());
  // An unknown gold label names the row.
  auto bad = data;
  bad.test[0].fields["label"] = "meh";
  try {
    run_eval(task, bad, *tiny().model, tiny().tok, EvalOptions{});
    FAIL();
  } catch (const tasks::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("mem.jsonl:1"), std::string::npos) << e.what();
  }
}

TEST(Evaluator, LimitTakesASeededStratifiedSample) {
  const auto task = classification_task(false);
  tasks::TaskData d;
  // Sorted by label, as task files often are: the first 6 rows are all "pos".
  for (int i = 0; i < 12; ++i)
    d.test.push_back(ex("t" + std::to_string(i), i < 6 ? "pos" : "neg", i + 1));
  const auto s = eval_examples(task, d, "test", 4, 0);
  ASSERT_EQ(s.size(), 4u);
  size_t pos = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    pos += s[i].fields.at("label") == "pos";
    if (i > 0) {
      EXPECT_LT(s[i - 1].line, s[i].line);  // file order
    }
  }
  EXPECT_EQ(pos, 2u);
  auto lines = [](const std::vector<tasks::Example>& v) {
    std::vector<int64_t> out;
    for (const auto& e : v) out.push_back(e.line);
    return out;
  };
  EXPECT_EQ(lines(eval_examples(task, d, "test", 4, 0)), lines(s));
  EXPECT_NE(lines(eval_examples(task, d, "test", 4, 1)), lines(s));
  EXPECT_EQ(eval_examples(task, d, "test", 0, 0).size(), 12u);
  // run_eval evaluates exactly that sample, with its seed.
  EvalOptions o;
  o.limit = 4;
  o.seed = 1;
  const auto r = run_eval(task, d, *tiny().model, tiny().tok, o);
  const auto expected = eval_examples(task, d, "test", 4, 1);
  ASSERT_EQ(r.records.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(r.records[i]["source"], expected[i].location());
}

TEST(Progress, Rendering) {
  EXPECT_EQ(Progress::format_duration(65), "1:05");
  EXPECT_EQ(Progress::format_duration(3725), "1:02:05");
  EXPECT_EQ(Progress::format_duration(-1), "?");
  const std::string bar = Progress::render_bar("scoring", 5, 10, 2.0, "ex", 10);
  EXPECT_NE(bar.find("[#####.....] 5/10"), std::string::npos) << bar;
  EXPECT_NE(bar.find("2.5 ex/s"), std::string::npos) << bar;
  EXPECT_NE(bar.find("ETA 0:02"), std::string::npos) << bar;
  // A resumed stage: 4 of the 6 done were done before, so the rate counts 2 in 2 s.
  const std::string resumed = Progress::render_bar("train", 6, 10, 2.0, "step", 10, 4);
  EXPECT_NE(resumed.find("1.0 step/s"), std::string::npos) << resumed;
  EXPECT_NE(resumed.find("ETA 0:04"), std::string::npos) << resumed;
}

// Lines mode (logs, CI): kept states (tune's dev evaluations) print at once with their detail,
// and the final state is not printed twice.
TEST(Progress, LinesKeepDetailAndDoNotRepeatTheLastLine) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* out = open_memstream(&buf, &len);
  {
    Progress p(out, Progress::Mode::Lines);
    p.start("train", 4, "step");
    p.update(1, "loss 0.9");  // within 10 s of the start: no line
    p.update(2, "loss 0.7  eval 0.5", /*keep=*/true);
    p.update(4, "loss 0.4  eval 0.8", /*keep=*/true);
    p.finish();
  }
  std::fclose(out);
  const std::string text(buf, len);
  std::free(buf);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  EXPECT_NE(text.find("2/4"), std::string::npos) << text;
  EXPECT_NE(text.find("4/4 100%"), std::string::npos) << text;
  EXPECT_NE(text.find("eval 0.8"), std::string::npos) << text;
  EXPECT_EQ(text.find("loss 0.9"), std::string::npos) << text;
}

TEST(EvaluatorRealModel, SentimentFiveShotFastMatchesNaive) {
  std::string path;
  if (!test::default_model(&path)) GTEST_SKIP() << "default model missing";
  static auto file = gguf::GgufFile::open(path);
  static Tokenizer tok = Tokenizer::from_gguf(file);
  static std::unique_ptr<Model> model = model_from_gguf(file);
  const auto task = tasks::load_task(test::data_path("../../examples/sentiment/task.json"));
  const auto data = tasks::load_task_data(task);
  EvalOptions o;
  o.shots = 5;
  o.limit = 6;
  o.show_prompt = true;
  o.scorer.batch_size = 4;
  const auto r = run_eval(task, data, *model, tok, o);
  EXPECT_GT(r.summary["engine"]["prefix_tokens"].get<int64_t>(), 50);
  for (const auto& rec : r.records) {
    ScoreRequest req;
    req.context = tok.encode(rec["prompt"].get<std::string>());
    for (const auto& c : rec["continuations"]) {
      req.continuations.push_back(tok.encode(c["continuation"].get<std::string>(), false, false));
    }
    const auto naive = score_naive(*model, {req})[0];
    for (size_t j = 0; j < naive.size(); ++j) {
      EXPECT_NEAR(rec["continuations"][j]["token_logprobs"][0].get<double>(),
                  naive[j].token_logprobs[0], 1e-4);
    }
  }
}

}  // namespace
}  // namespace ptune::eval
