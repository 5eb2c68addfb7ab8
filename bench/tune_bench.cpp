// tune_bench: ptune's prompt-tuning training next to Hugging Face PEFT, in one run.
//
// Both trainers run as child processes, one after the other, on the same GGUF, task, thread
// count and hyperparameters (virtual tokens, batch size, lr, steps, linear decay with 0 warmup,
// grad clipping 1.0, AdamW without weight decay, seed):
//   ptune  `ptune tune --method prompt-tuning ...` (the CLI built next to this program); its
//          figures come from OUT/ptune_train.json, which the CLI writes next to the adapter.
//   PEFT   bench/anchors/peft_tune.py with the reference Python ($PTUNE_REF_PYTHON, else
//          .venv-ref/bin/python, else /opt/ptune-ref/bin/python): transformers on the same GGUF
//          (dequantized fp32), PromptTuningConfig(SAMPLE_VOCAB), the standard causal-LM loss.
// For each child: training examples/s (optimizer steps only: forward, backward, clipping, AdamW;
// no model load, no evaluation), peak RSS measured identically for both by wait4()'s ru_maxrss
// (the whole process, model load included), final dev accuracy (argmax over the labels' first
// tokens at the last prompt position), and the child's wall time. Then the ratios ptune/PEFT and
// whether the aims hold: throughput >= 1.5x PEFT's, peak RSS <= PEFT's, accuracy >= PEFT's.
//
//   tune_bench [--model PATH] [--task PATH] [--threads N] [--steps N] [--batch-size N]
//              [--virtual-tokens N] [--lr X] [--seed N] [--dev-limit N] [--ptune CLI]
//              [--ptune-arg=ARG]... [--no-anchor] [--keep]
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <iostream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bench_util.h"
#include "ptune/model/model_path.h"
#include "ptune/runtime/openmp.h"

namespace {

using namespace ptune::bench;
using nlohmann::json;

#ifndef PTUNE_CLI_PATH
#define PTUNE_CLI_PATH ""
#endif

struct Options {
  std::string model, task, cli;
  int threads = 2;
  int steps = 60;
  int batch_size = 8;
  int virtual_tokens = 20;
  double lr = 0.03;
  unsigned seed = 42;
  int dev_limit = 0;
  bool anchor = true;
  bool keep = false;
  std::vector<std::string> ptune_args;  // extra arguments for `ptune tune` (--ptune-arg)
};

// The last line of `s` that parses as a JSON object.
json last_json_line(const std::string& s) {
  std::istringstream in(s);
  std::string line;
  json found;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '{') continue;
    try {
      found = json::parse(line);
    } catch (const std::exception&) {
    }
  }
  return found;
}

double num(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : -1.0;
}

// A row: train ex/s, wait4 peak RSS, dev accuracy, wall; or an error.
struct Row {
  std::string name;
  bool ok = false;
  std::string error;
  double ex_per_s = -1, rss_mib = -1, dev_acc = -1, dev_before = -1, train_s = -1, wall_s = -1,
         self_rss_mib = -1;
  std::string note;
};

// Appends each flag and its value to args.
void append_flags(std::vector<std::string>* args,
                  std::initializer_list<std::pair<const char*, std::string>> flags) {
  for (const auto& [flag, value] : flags) {
    args->push_back(flag);
    args->push_back(value);
  }
}

// A trainer's figures from its JSON record (ptune_train.json, or peft_tune.py's last line); ok
// when both the throughput and the dev accuracy are there.
void read_figures(const json& j, Row* row) {
  row->ex_per_s = num(j, "train_examples_per_s");
  row->train_s = num(j, "train_seconds");
  row->dev_acc = num(j, "dev_accuracy");
  row->dev_before = num(j, "dev_accuracy_before");
  row->self_rss_mib = num(j, "peak_rss_mb");
  row->ok = row->ex_per_s > 0 && row->dev_acc >= 0;
}

// `ptune tune` with the bench's settings, writing its adapter and record under `out`.
std::vector<std::string> ptune_tune_args(const Options& o, const std::string& out) {
  // --no-record: the bench records its own run, with both trainers' figures.
  std::vector<std::string> args = {o.cli,  "tune", "--method", "prompt-tuning", "--task",
                                   o.task, "-o",   out,        "--no-record"};
  append_flags(&args, {{"--virtual-tokens", std::to_string(o.virtual_tokens)},
                       {"--batch-size", std::to_string(o.batch_size)},
                       {"--lr", num_arg(o.lr)},
                       {"--max-steps", std::to_string(o.steps)},
                       {"--warmup-steps", "0"},
                       {"--schedule", "linear"},
                       {"--init", "vocab"},
                       {"--seed", std::to_string(o.seed)},
                       {"--threads", std::to_string(o.threads)},
                       {"--eval-every", "0"},
                       {"--dev-limit", std::to_string(o.dev_limit)},
                       {"--model", o.model}});
  args.insert(args.end(), o.ptune_args.begin(), o.ptune_args.end());
  return args;
}

// The row's figures from the CLI's ptune_train.json.
void read_ptune_stats(const json& j, Row* row) {
  read_figures(j, row);
  if (j.contains("loss") && j["loss"].is_string())
    row->note =
        "ptune's loss: " + j["loss"].get<std::string>() +
        (j["loss"] == "first-token" ? " (cross-entropy over the labels' first tokens only)" : "");
  if (!row->ok) row->error = "ptune_train.json lacks train_examples_per_s or dev_accuracy";
}

// Fallback for a CLI that does not write ptune_train.json yet: stdout's summary lines. Its
// time includes model load and both evaluations, so the throughput is a lower bound.
void read_ptune_stdout(const std::string& out, int batch_size, Row* row) {
  std::smatch m;
  if (std::regex_search(out, m,
                        std::regex(R"(dev accuracy: ([0-9.eE+-]+) before, ([0-9.eE+-]+) after)"))) {
    row->dev_before = std::stod(m[1]);
    row->dev_acc = std::stod(m[2]);
  }
  if (std::regex_search(out, m, std::regex(R"(steps (\d+)\s+([0-9.eE+-]+) s)"))) {
    row->train_s = std::stod(m[2]);
    row->ex_per_s = std::stod(m[1]) * batch_size / row->train_s;
  }
  if (std::regex_search(out, m, std::regex(R"(peak RSS (\d+) MiB)")))
    row->self_rss_mib = std::stod(m[1]);
  row->ok = row->ex_per_s > 0 && row->dev_acc >= 0;
  row->note = "no ptune_train.json: ex/s from the CLI's total tune time (includes evaluation)";
  if (!row->ok) row->error = "no ptune_train.json and no summary on stdout";
}

Row run_ptune(const Options& o, const std::string& tmp) {
  Row row;
  row.name = "ptune";
  const std::string out = tmp + "/ptune";
  ChildResult c = run_child(ptune_tune_args(o, out), tmp, "ptune", "tune_bench");
  row.wall_s = c.wall_s;
  row.rss_mib = c.max_rss_mib;
  if (c.status != 0) {
    row.error = "ptune tune exited " + std::to_string(c.status) + ":\n" + tail(c.err, 8);
    return row;
  }
  const std::string stats = out + "/ptune_train.json";
  if (is_file(stats)) {
    read_ptune_stats(json::parse(read_file(stats)), &row);
  } else {
    read_ptune_stdout(c.out, o.batch_size, &row);
  }
  return row;
}

Row run_peft(const Options& o, const std::string& tmp, const std::string& py, json* info) {
  Row row;
  row.name = "PEFT";
  std::vector<std::string> args = {py, repo_root() + "/bench/anchors/peft_tune.py"};
  append_flags(&args, {{"--model", o.model},
                       {"--task", o.task},
                       {"--threads", std::to_string(o.threads)},
                       {"--steps", std::to_string(o.steps)},
                       {"--batch-size", std::to_string(o.batch_size)},
                       {"--virtual-tokens", std::to_string(o.virtual_tokens)},
                       {"--lr", num_arg(o.lr)},
                       {"--seed", std::to_string(o.seed)},
                       {"--dev-limit", std::to_string(o.dev_limit)}});
  ChildResult c = run_child(args, tmp, "peft", "tune_bench");
  row.wall_s = c.wall_s;
  row.rss_mib = c.max_rss_mib;
  json j = last_json_line(c.out);
  if (c.status != 0 || !j.is_object()) {
    row.error = "peft_tune.py exited " + std::to_string(c.status) + ":\n" + tail(c.err, 8);
    return row;
  }
  read_figures(j, &row);
  if (!row.ok) row.error = "peft_tune.py printed no train_examples_per_s / dev_accuracy";
  *info = j;
  return row;
}

// v printed with `fmt`, or "?" for a figure that is missing (negative).
std::string or_unknown(double v, const char* fmt) {
  char b[32];
  std::snprintf(b, sizeof b, fmt, v);
  return v >= 0 ? b : "?";
}

void print_row(const Row& r) {
  if (!r.ok) {
    std::printf("%-11s error: %s\n", r.name.c_str(), r.error.c_str());
    return;
  }
  std::printf("%-11s %12.2f %14.1f %14.4f %12.1f %10.1f\n", r.name.c_str(), r.ex_per_s, r.rss_mib,
              r.dev_acc, r.train_s, r.wall_s);
}

Options parse(int argc, char** argv) {
  Options o;
  CLI::App app{"tune_bench: ptune prompt tuning next to PEFT on the same machine"};
  app.add_option("-m,--model", o.model, "GGUF model (default: the setup's)");
  app.add_option("--task", o.task, "Task file (default: examples/sentiment)");
  app.add_option("--threads", o.threads, "CPU threads for both sides")->capture_default_str();
  app.add_option("--steps", o.steps, "Optimizer steps")->capture_default_str();
  app.add_option("--batch-size", o.batch_size, "Examples per step")->capture_default_str();
  app.add_option("--virtual-tokens", o.virtual_tokens, "Prompt length")->capture_default_str();
  app.add_option("--lr", o.lr, "Learning rate")->capture_default_str();
  app.add_option("--seed", o.seed, "Seed")->capture_default_str();
  app.add_option("--dev-limit", o.dev_limit, "Dev examples (0 = all)")->capture_default_str();
  app.add_option("--ptune", o.cli, "The ptune binary (default: the build's)");
  app.add_option("--ptune-arg", o.ptune_args, "Passed on to ptune tune (repeatable)");
  app.add_flag("--no-anchor{false}", o.anchor, "ptune only");
  app.add_flag("--keep", o.keep, "Keep the temporary folder");
  ptune::bench::parse_or_exit(app, argc, argv);
  if (o.threads < 1 || o.steps < 1 || o.batch_size < 1 || o.virtual_tokens < 1 || o.dev_limit < 0)
    throw std::runtime_error("--threads, --steps, --batch-size, --virtual-tokens must be >= 1");
  if (o.model.empty()) o.model = ptune::default_model_path();
  if (o.task.empty()) o.task = repo_root() + "/examples/sentiment/task.json";
  if (o.cli.empty()) o.cli = PTUNE_CLI_PATH;
  if (o.cli.empty()) o.cli = repo_root() + "/build/ptune";
  o.model = std::filesystem::absolute(o.model).string();
  o.task = std::filesystem::absolute(o.task).string();
  return o;
}

void print_settings(const Options& o) {
  const double load = loadavg1();
  std::printf("tune_bench: prompt tuning, ptune vs PEFT\n");
  std::printf("model %s\ntask %s\n", o.model.c_str(), o.task.c_str());
  std::printf(
      "threads %d, steps %d, batch %d, virtual tokens %d, lr %g (linear decay, 0 warmup), "
      "seed %u, dev %s\n",
      o.threads, o.steps, o.batch_size, o.virtual_tokens, o.lr, o.seed,
      o.dev_limit > 0 ? ("first " + std::to_string(o.dev_limit)).c_str() : "all");
  std::printf("load average (1 min) at start: %.2f%s\n", load,
              load > 0.5 ? "  (machine not idle: numbers are pessimistic)" : "");
  std::fflush(stdout);
}

// The PEFT row, or one with the reason it did not run; prints PEFT's versions when it ran.
Row run_peft_if_available(const Options& o, const std::string& tmp, const std::string& py) {
  Row pe;
  pe.name = "PEFT";
  json info;
  if (!o.anchor) {
    pe.error = "skipped (--no-anchor)";
  } else if (py.empty()) {
    pe.error =
        "no reference Python (set PTUNE_REF_PYTHON or run scripts/reference/make_venv); "
        "ptune only";
  } else if (!is_file(py)) {
    pe.error = "reference Python not found: " + py + "; ptune only";
  } else {
    try {
      pe = run_peft(o, tmp, py, &info);
    } catch (const std::exception& e) {
      pe.error = e.what();
    }
  }
  if (info.is_object()) {
    std::printf("PEFT: peft %s, transformers %s, torch %s, init %s\n",
                info.value("peft", "?").c_str(), info.value("transformers", "?").c_str(),
                info.value("torch", "?").c_str(), info.value("init", "?").c_str());
  }
  return pe;
}

// The table, the ratios and whether the aims hold.
void print_table(const Row& pt, const Row& pe, ptune::bench::BenchRun& record) {
  std::printf("\n%-11s %12s %14s %14s %12s %10s\n", "trainer", "train ex/s", "peak RSS MiB",
              "dev accuracy", "train s", "wall s");
  print_row(pt);
  print_row(pe);
  if (!pt.ok || !pe.ok) return;
  const double speed = pt.ex_per_s / pe.ex_per_s, mem = pt.rss_mib / pe.rss_mib,
               dacc = pt.dev_acc - pe.dev_acc;
  std::printf("%-11s %11.2fx %13.2fx %+14.4f\n", "ptune/PEFT", speed, mem, dacc);
  record.add("ptune train", pt.ex_per_s, "ex/s");
  record.add("PEFT train", pe.ex_per_s, "ex/s");
  record.add("ptune / PEFT speed", speed, "x");
  record.add("ptune / PEFT peak RSS", mem, "x");
  record.add("ptune - PEFT dev accuracy", dacc, "");
  const bool a1 = speed >= 1.5, a2 = mem <= 1.0, a3 = dacc >= 0;
  std::printf(
      "\naims: throughput >= 1.5x PEFT: %s (%.2fx); peak RSS <= PEFT: %s (%.2fx); "
      "dev accuracy >= PEFT: %s (%+.4f)  => %s\n",
      a1 ? "yes" : "NO", speed, a2 ? "yes" : "NO", mem, a3 ? "yes" : "NO", dacc,
      a1 && a2 && a3 ? "all hold" : "not all hold");
}

// What the figures measure, and the notes on each trainer's loss.
void print_notes(const Row& pt, const Row& pe) {
  std::printf(
      "\npeak RSS: wait4() ru_maxrss of each child, the whole process (model load "
      "included).");
  if (pt.self_rss_mib > 0 || pe.self_rss_mib > 0)
    std::printf(" Self-reported: ptune %s MiB, PEFT %s MiB.",
                or_unknown(pt.self_rss_mib, "%.0f").c_str(),
                or_unknown(pe.self_rss_mib, "%.0f").c_str());
  std::printf(
      "\ntrain ex/s: optimizer steps only (padding the batch, forward, backward, clipping, "
      "AdamW), no model load, no evaluation.\n");
  if (pt.dev_before >= 0 || pe.dev_before >= 0)
    std::printf("dev accuracy before training (the initial prompts differ): ptune %s, PEFT %s\n",
                or_unknown(pt.dev_before, "%.4f").c_str(),
                or_unknown(pe.dev_before, "%.4f").c_str());
  if (!pt.note.empty()) std::printf("note: %s\n", pt.note.c_str());
  if (pe.ok)
    std::printf(
        "note: PEFT's loss: transformers' causal-LM loss, full-vocabulary cross-entropy "
        "on the label tokens\n");
}

}  // namespace

int main(int argc, char** argv) {
  // Like ptune itself: OMP_WAIT_POLICY=PASSIVE unless set. Both children inherit the same
  // environment, so ptune and PEFT run under the same OpenMP policy.
  ptune::reexec_with_passive_openmp(argv);
  try {
    Options o = parse(argc, argv);
    ptune::bench::BenchRun record("tune_bench", argc, argv, o.model);
    print_settings(o);
    if (!is_file(o.model)) throw std::runtime_error("model not found: " + o.model);
    if (!is_file(o.cli)) throw std::runtime_error("ptune CLI not found: " + o.cli);
    const std::string tmp = make_temp_dir("tune_bench");

    Row pt = run_ptune(o, tmp);
    std::printf("ptune: %s\n", pt.ok ? "done" : "failed");
    std::fflush(stdout);
    const std::string py = find_python(repo_root());
    Row pe = run_peft_if_available(o, tmp, py);

    print_table(pt, pe, record);
    record.finish();
    print_notes(pt, pe);
    if (o.keep) {
      std::printf("outputs kept in %s\n", tmp.c_str());
    } else {
      std::error_code ec;
      std::filesystem::remove_all(tmp, ec);
    }
    return pt.ok && (pe.ok || !o.anchor || py.empty() || !is_file(py)) ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "tune_bench: error: " << e.what() << "\n";
    return 1;
  }
}
