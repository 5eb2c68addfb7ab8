// eval_bench: examples/s of ptune's eval path against a naive per-example loop (same binary) and
// a plain transformers loop (bench/anchors/eval_transformers.py), the same GGUF, the same thread
// count, on two tasks in one run:
//   sentiment    5-shot binary classification (examples/sentiment, test split)
//   intents77    zero-shot routing to 77 intents whose names are several tokens long and share
//                first tokens (" card ...", " transfer ..."): BANKING77's train file from
//                ../shared/data when present (held-out 10%), else a seeded synthetic set with
//                the same shape (77 multi-word intents, 1,540 messages) written by the bench.
// The last lines compare the two: many labels must not cost much more than two.
//
//   ptune eval     run_eval (render + tokenize + shared-prefix KV + one state per example, batched,
//                  + metrics and bootstrap): what `ptune eval --shots 5` does after loading.
//   ptune naive    per example, per label: one plain forward over prompt + label tokens
//                  (logits only at the label positions), sum of log-probs; argmax.
//   transformers   per example, per label: tokenizer + model(prompt + label) with full logits.
// Runs with OMP_WAIT_POLICY=PASSIVE unless set (re-executes itself), like `ptune eval`.
// Each engine scores the same prompts and label continuations; the bench checks that the three
// agree on the per-label scores (max |diff| printed) and prints examples/s and the ratios.
//
//   eval_bench [--model PATH] [--threads N] [--n EXAMPLES] [--n-intents EXAMPLES] [--shots K]
//              [--batch-size B] [--tasks sentiment,intents77] [--no-anchor]
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "intents77.h"
#include "ptune/eval/evaluator.h"
#include "ptune/eval/scorer.h"
#include "ptune/io/gguf.h"
#include "ptune/model/model_path.h"
#include "ptune/runtime/openmp.h"
#include "ptune/tasks/fewshot.h"
#include "ptune/tasks/prompt.h"

using namespace ptune::bench;

namespace {

using Scores = std::vector<std::vector<ptune::eval::ContinuationScore>>;

struct Options {
  std::string model_path;
  int threads = 2, shots = 5, batch = 16;
  size_t n = 72, n_intents = 24;
  std::string tasks = "sentiment,intents77";
  bool anchor = true;
};

// Reads the command line into *o; false (after printing the usage) on an unknown argument.
bool parse_options(int argc, char** argv, Options* o) {
  o->model_path = ptune::default_model_path();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--model")
      o->model_path = next();
    else if (a == "--threads")
      o->threads = std::stoi(next());
    else if (a == "--n")
      o->n = std::stoul(next());
    else if (a == "--n-intents")
      o->n_intents = std::stoul(next());
    else if (a == "--tasks")
      o->tasks = next();
    else if (a == "--shots")
      o->shots = std::stoi(next());
    else if (a == "--batch-size")
      o->batch = std::stoi(next());
    else if (a == "--no-anchor")
      o->anchor = false;
    else {
      std::cerr << "usage: eval_bench [--model PATH] [--threads N] [--n EXAMPLES] "
                   "[--n-intents EXAMPLES] [--shots K] [--batch-size B] "
                   "[--tasks sentiment,intents77] [--no-anchor]\n";
      return false;
    }
  }
  return true;
}

// The same prompts and continuations the eval path builds, for the naive loop and the anchor:
// score requests for ptune, and the anchor's input (prompt texts, continuations, gold indexes).
struct Workload {
  std::vector<ptune::eval::ScoreRequest> reqs;
  nlohmann::json spec;
};

// One task the bench measures: its spec and data, shots and examples.
struct BenchTask {
  std::string name, source;
  ptune::tasks::TaskSpec task;
  ptune::tasks::TaskData data;
  size_t shots = 0, n = 0;
};

Workload build_workload(const Options& o, const BenchTask& bt, const ptune::Tokenizer& tok) {
  ptune::tasks::TaskSpec t = bt.task;
  t.few_shot.k = bt.shots;
  ptune::tasks::PromptBuilder prompts(t);
  const auto& data = bt.data;
  const auto examples =
      ptune::eval::eval_examples(bt.task, data, "test", bt.n, /*seed=*/0);  // run_eval's rows
  const size_t n = examples.size();
  Workload w;
  w.reqs.resize(n);
  w.spec = {{"model", o.model_path}, {"threads", o.threads}, {"examples", nlohmann::json::array()}};
  for (size_t i = 0; i < n; ++i) {
    auto demos = ptune::tasks::select_demos(data.train, t.few_shot, examples[i], "label", i);
    const std::string text = prompts.render(examples[i], demos).text();
    w.reqs[i].context = tok.encode(text);
    nlohmann::json conts = nlohmann::json::array();
    for (const auto& c : prompts.candidates(examples[i])) {
      w.reqs[i].continuations.push_back(tok.encode(c.continuation, false, false));
      conts.push_back(c.continuation);
    }
    w.spec["examples"].push_back(
        {{"prompt", text}, {"continuations", conts}, {"gold", prompts.gold_index(examples[i])}});
  }
  return w;
}

void print_header(const Options& o, const BenchTask& bt,
                  const std::vector<ptune::eval::ScoreRequest>& reqs) {
  const size_t n = reqs.size();
  size_t prompt_tokens = 0, label_tokens = 0;
  for (const auto& r : reqs) prompt_tokens += r.context.size();
  for (const auto& c : reqs[0].continuations) label_tokens += c.size();
  const std::string load = std::to_string(loadavg1()).substr(0, 4);
  std::printf(
      "\n== %s (%s): test, %zu examples, %zu-shot (mean prompt %.0f tokens), %zu labels "
      "(mean %.1f tokens), %d threads, batch %d; load average %s\n",
      bt.name.c_str(), bt.source.c_str(), n, bt.shots, double(prompt_tokens) / n,
      reqs[0].continuations.size(), double(label_tokens) / reqs[0].continuations.size(), o.threads,
      o.batch, load.c_str());
}

// Warmup, then the eval path (run_eval) on n examples; prints its line, returns its seconds.
double time_eval_path(const ptune::tasks::TaskSpec& task, const ptune::tasks::TaskData& data,
                      const ptune::Model& model, const ptune::Tokenizer& tok,
                      const ptune::eval::EvalOptions& opt, const ptune::eval::ScoreRequest& warmup,
                      size_t n) {
  {
    ptune::eval::ContinuationScorer w(model, opt.scorer);
    w.score({warmup});
  }
  const double t0 = now_s();
  ptune::eval::EvalResult r = ptune::eval::run_eval(task, data, model, tok, opt);
  const double t_eval = now_s() - t0;
  const auto& eng = r.summary["engine"];
  std::printf(
      "ptune eval:   %.2f s  %.2f ex/s  (accuracy %.4f; prefix %lld tokens once, %lld suffix "
      "tokens, %lld padded, %zu forwards)\n",
      t_eval, n / t_eval, r.headline.at(0).ci.value, eng["prefix_tokens"].get<long long>(),
      eng["suffix_tokens"].get<long long>(), eng["padded_tokens"].get<long long>(),
      eng["forwards"].get<size_t>());
  return t_eval;
}

// The scorer alone on the same requests; prints its line.
Scores time_scoring(const ptune::Model& model, const ptune::eval::ScorerOptions& options,
                    const std::vector<ptune::eval::ScoreRequest>& reqs) {
  ptune::eval::ContinuationScorer fast(model, options);
  const double t0 = now_s();
  auto fast_scores = fast.score(reqs);
  const double t_score = now_s() - t0;
  std::printf("  (scoring alone: %.2f s, %.2f ex/s)\n", t_score, reqs.size() / t_score);
  return fast_scores;
}

// The naive loop, checked against the scorer's scores; prints its line, sets *seconds.
Scores time_naive(const ptune::Model& model, const std::vector<ptune::eval::ScoreRequest>& reqs,
                  const Scores& fast_scores, double* seconds) {
  const size_t n = reqs.size();
  const double t0 = now_s();
  auto naive = ptune::eval::score_naive(model, reqs);
  const double t_naive = now_s() - t0;
  double max_diff = 0;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < naive[i].size(); ++j) {
      max_diff = std::max(max_diff, std::abs(naive[i][j].sum() - fast_scores[i][j].sum()));
    }
  }
  std::printf("ptune naive:  %.2f s  %.2f ex/s  (max |score diff| vs eval path %.2e)\n", t_naive,
              n / t_naive, max_diff);
  *seconds = t_naive;
  return naive;
}

// The transformers anchor: its seconds (NaN when it did not run) and a note for its line.
struct Anchor {
  double seconds = NAN;
  std::string note = "skipped (--no-anchor)";
};

// Reads the anchor's JSON output into a, comparing its scores with the naive loop's.
void read_anchor_output(const std::string& out, const Scores& naive, Anchor* a) {
  try {
    auto j = nlohmann::json::parse(out.substr(out.find('{')));
    if (j.contains("error")) {
      a->note = "error: " + j["error"].get<std::string>();
      return;
    }
    a->seconds = j["seconds"].get<double>();
    double d = 0;
    for (size_t i = 0; i < naive.size(); ++i) {
      for (size_t c = 0; c < naive[i].size(); ++c) {
        d = std::max(d, std::abs(j["scores"][i][c].get<double>() - naive[i][c].sum()));
      }
    }
    a->note = "transformers " + j["transformers"].get<std::string>() + ", torch " +
              j["torch"].get<std::string>() + "; max |score diff| vs ptune " + std::to_string(d);
  } catch (const std::exception& e) {
    a->note = std::string("could not read the anchor's output: ") + e.what();
  }
}

Anchor run_anchor(bool anchor, const std::string& root, const nlohmann::json& spec,
                  const Scores& naive) {
  Anchor a;
  const std::string py = anchor ? find_python(root) : "";
  if (anchor && py.empty())
    a.note = "no reference python ($PTUNE_REF_PYTHON, .venv-ref, /opt/ptune-ref)";
  if (py.empty()) return a;
  const std::string in = "/tmp/ptune_eval_bench_" + std::to_string(getpid()) + ".json";
  std::ofstream(in) << spec.dump();
  const std::string cmd =
      "'" + py + "' '" + root + "/bench/anchors/eval_transformers.py' '" + in + "'";
  const std::string out = read_command_output(cmd);
  std::remove(in.c_str());
  read_anchor_output(out, naive, &a);
  return a;
}

// One task's figures, for the table at the end and the run record.
struct TaskResult {
  std::string name;
  size_t n = 0;
  double eval_s = 0, naive_s = 0;
  Anchor hf;
};

void print_summary(const std::vector<TaskResult>& results, ptune::bench::BenchRun& record) {
  std::printf("\n%-10s %-14s %10s %16s\n", "task", "engine", "ex/s", "ptune eval / x");
  for (const TaskResult& t : results) {
    const double n = static_cast<double>(t.n);
    std::printf("%-10s %-14s %10.2f %15.2fx\n", t.name.c_str(), "ptune eval", n / t.eval_s, 1.0);
    std::printf("%-10s %-14s %10.2f %15.2fx\n", t.name.c_str(), "ptune naive", n / t.naive_s,
                t.naive_s / t.eval_s);
    if (std::isfinite(t.hf.seconds)) {
      std::printf("%-10s %-14s %10.2f %15.2fx\n", t.name.c_str(), "transformers", n / t.hf.seconds,
                  t.hf.seconds / t.eval_s);
      record.add(t.name + " transformers", n / t.hf.seconds, "ex/s");
      record.add(t.name + " ptune eval / transformers", t.hf.seconds / t.eval_s, "x");
    } else {
      std::printf("%-10s %-14s %s\n", t.name.c_str(), "transformers", t.hf.note.c_str());
    }
    record.add(t.name + " ptune eval", n / t.eval_s, "ex/s");
    record.add(t.name + " ptune naive", n / t.naive_s, "ex/s");
    record.add(t.name + " ptune eval / naive", t.naive_s / t.eval_s, "x");
  }
  if (results.size() == 2) {  // many labels against two: the eval path's examples/s
    const double many = results[1].n / results[1].eval_s, two = results[0].n / results[0].eval_s;
    std::printf("%s / %s eval ex/s: %.2fx\n", results[1].name.c_str(), results[0].name.c_str(),
                many / two);
    record.add(results[1].name + " / " + results[0].name + " eval ex/s", many / two, "x");
  }
  record.finish();
}

// The tasks asked for with --tasks, loaded (intents77 written into `dir` first).
std::vector<BenchTask> load_tasks(const Options& o, const std::string& root,
                                  const std::string& dir) {
  std::vector<BenchTask> out;
  std::stringstream names(o.tasks);
  for (std::string name; std::getline(names, name, ',');) {
    BenchTask bt;
    bt.name = name;
    std::string path;
    if (name == "sentiment") {
      path = root + "/examples/sentiment/task.json";
      bt.source = "examples/sentiment";
      bt.shots = static_cast<size_t>(o.shots);
      bt.n = o.n;
    } else if (name == "intents77") {
      path = write_intents77_task(dir, &bt.source);
      bt.n = o.n_intents;
    } else {
      throw std::invalid_argument("--tasks: unknown task '" + name + "' (sentiment, intents77)");
    }
    bt.task = ptune::tasks::load_task(path);
    bt.data = ptune::tasks::load_task_data(bt.task);
    out.push_back(std::move(bt));
  }
  return out;
}

// Every engine on one task.
TaskResult run_task(const Options& o, const std::string& root, const BenchTask& bt,
                    const ptune::Model& model, const ptune::Tokenizer& tok) {
  ptune::eval::EvalOptions opt;
  opt.shots = bt.shots;
  opt.limit = bt.n;
  opt.scorer.batch_size = o.batch;
  opt.model_name = o.model_path.substr(o.model_path.find_last_of('/') + 1);
  const Workload w = build_workload(o, bt, tok);
  TaskResult t;
  t.name = bt.name;
  t.n = w.reqs.size();
  print_header(o, bt, w.reqs);
  t.eval_s = time_eval_path(bt.task, bt.data, model, tok, opt, w.reqs[0], t.n);
  const Scores fast_scores = time_scoring(model, opt.scorer, w.reqs);
  const Scores naive = time_naive(model, w.reqs, fast_scores, &t.naive_s);
  t.hf = run_anchor(o.anchor, root, w.spec, naive);
  if (std::isfinite(t.hf.seconds)) {
    std::printf("transformers: %.2f s  %.2f ex/s  (%s)\n", t.hf.seconds, t.n / t.hf.seconds,
                t.hf.note.c_str());
  } else {
    std::printf("transformers: %s\n", t.hf.note.c_str());
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  // As `ptune eval` does (docs/eval.md): sleeping OpenMP threads unless the user chose a policy;
  // the transformers anchor inherits the same environment.
  ptune::reexec_with_passive_openmp(argv);
  Options o;
  if (!parse_options(argc, argv, &o)) return 2;
  ptune::bench::BenchRun record("eval_bench", argc, argv, o.model_path,
                                {{"examples", o.n},
                                 {"intent_examples", o.n_intents},
                                 {"tasks", o.tasks},
                                 {"shots", o.shots},
                                 {"batch", o.batch},
                                 {"threads", o.threads}});
  try {
    torch::set_num_threads(o.threads);
    const std::string root = repo_root();
    auto file = ptune::gguf::GgufFile::open(o.model_path);
    ptune::Tokenizer tok = ptune::Tokenizer::from_gguf(file);
    std::unique_ptr<ptune::Model> owned = ptune::model_from_gguf(file);
    const ptune::Model& model = *owned;
    const std::string dir = make_temp_dir("eval_bench");
    std::vector<TaskResult> results;
    for (const BenchTask& bt : load_tasks(o, root, dir)) {
      results.push_back(run_task(o, root, bt, model, tok));
    }
    std::filesystem::remove_all(dir);
    print_summary(results, record);
  } catch (const std::exception& e) {
    std::cerr << "eval_bench: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
