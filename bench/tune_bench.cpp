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
//              [--ptune-arg ARG]... [--no-anchor] [--keep]
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_util.h"
#include "ptune/model/model_path.h"
#include "ptune/runtime/openmp.h"

extern char** environ;

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

struct ChildResult {
  int status = -1;         // exit code, or -1 when it did not exit normally
  double wall_s = 0;       // fork to reap
  double max_rss_mib = 0;  // wait4 ru_maxrss (KiB) / 1024
  std::string out, err;    // captured stdout / stderr
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tail(const std::string& s, size_t lines) {
  size_t pos = s.size();
  for (size_t n = 0; n <= lines && pos > 0;) {
    pos = s.rfind('\n', pos - 1);
    if (pos == std::string::npos) return s;
    ++n;
  }
  return s.substr(pos + 1);
}

// Runs argv[0] with stdout/stderr into files under `dir`, waits with wait4 and returns its
// resource usage. Only this child is measured (its own and its waited-for descendants' peak).
ChildResult run_child(const std::vector<std::string>& args, const std::string& dir,
                      const std::string& name) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::string out_path = dir + "/" + name + ".stdout",
                    err_path = dir + "/" + name + ".stderr";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::string cmdline;
  for (const std::string& a : args) {
    if (!cmdline.empty()) cmdline += ' ';
    cmdline += shell_quote(a);
  }
  std::fprintf(stderr, "tune_bench: running %s\n", cmdline.c_str());
  ChildResult r;
  const double t0 = now_s();
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
  int status = 0;
  struct rusage ru {};
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) throw std::runtime_error(std::string("wait4: ") + std::strerror(errno));
  }
  r.wall_s = now_s() - t0;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.max_rss_mib = static_cast<double>(ru.ru_maxrss) / 1024.0;
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

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

std::string dev_limit_args(const Options& o) {
  return std::to_string(o.dev_limit);
}

// A double as the shortest text that round-trips for the usual values ("0.03", "3e-05").
std::string num_arg(double v) {
  char b[64];
  for (int prec = 6; prec <= 17; ++prec) {
    std::snprintf(b, sizeof b, "%.*g", prec, v);
    if (std::strtod(b, nullptr) == v) break;
  }
  return b;
}

Row run_ptune(const Options& o, const std::string& tmp) {
  Row row;
  row.name = "ptune";
  const std::string out = tmp + "/ptune";
  std::vector<std::string> args = {o.cli,
                                   "tune",
                                   "--method",
                                   "prompt-tuning",
                                   "--task",
                                   o.task,
                                   "-o",
                                   out,
                                   "--virtual-tokens",
                                   std::to_string(o.virtual_tokens),
                                   "--batch-size",
                                   std::to_string(o.batch_size),
                                   "--lr",
                                   num_arg(o.lr),
                                   "--max-steps",
                                   std::to_string(o.steps),
                                   "--warmup-steps",
                                   "0",
                                   "--schedule",
                                   "linear",
                                   "--init",
                                   "vocab",
                                   "--seed",
                                   std::to_string(o.seed),
                                   "--threads",
                                   std::to_string(o.threads),
                                   "--eval-every",
                                   "0",
                                   "--dev-limit",
                                   dev_limit_args(o),
                                   "--model",
                                   o.model};
  args.insert(args.end(), o.ptune_args.begin(), o.ptune_args.end());
  ChildResult c = run_child(args, tmp, "ptune");
  row.wall_s = c.wall_s;
  row.rss_mib = c.max_rss_mib;
  if (c.status != 0) {
    row.error = "ptune tune exited " + std::to_string(c.status) + ":\n" + tail(c.err, 8);
    return row;
  }
  const std::string stats = out + "/ptune_train.json";
  if (is_file(stats)) {
    json j = json::parse(read_file(stats));
    row.ex_per_s = num(j, "train_examples_per_s");
    row.train_s = num(j, "train_seconds");
    row.dev_acc = num(j, "dev_accuracy");
    row.dev_before = num(j, "dev_accuracy_before");
    row.self_rss_mib = num(j, "peak_rss_mb");
    if (j.contains("loss") && j["loss"].is_string())
      row.note =
          "ptune's loss: " + j["loss"].get<std::string>() +
          (j["loss"] == "verbalizer" ? " (cross-entropy over the labels' first tokens only)" : "");
    row.ok = row.ex_per_s > 0 && row.dev_acc >= 0;
    if (!row.ok) row.error = "ptune_train.json lacks train_examples_per_s or dev_accuracy";
    return row;
  }
  // Fallback for a CLI that does not write ptune_train.json yet: stdout's summary lines. Its
  // time includes model load and both evaluations, so the throughput is a lower bound.
  std::smatch m;
  if (std::regex_search(c.out, m,
                        std::regex(R"(dev accuracy: ([0-9.eE+-]+) before, ([0-9.eE+-]+) after)"))) {
    row.dev_before = std::stod(m[1]);
    row.dev_acc = std::stod(m[2]);
  }
  if (std::regex_search(c.out, m, std::regex(R"(steps (\d+)\s+([0-9.eE+-]+) s)"))) {
    row.train_s = std::stod(m[2]);
    row.ex_per_s = std::stod(m[1]) * o.batch_size / row.train_s;
  }
  if (std::regex_search(c.out, m, std::regex(R"(peak RSS (\d+) MiB)")))
    row.self_rss_mib = std::stod(m[1]);
  row.ok = row.ex_per_s > 0 && row.dev_acc >= 0;
  row.note = "no ptune_train.json: ex/s from the CLI's total tune time (includes evaluation)";
  if (!row.ok) row.error = "no ptune_train.json and no summary on stdout";
  return row;
}

Row run_peft(const Options& o, const std::string& tmp, const std::string& py, json* info) {
  Row row;
  row.name = "PEFT";
  std::vector<std::string> args = {py,
                                   repo_root() + "/bench/anchors/peft_tune.py",
                                   "--model",
                                   o.model,
                                   "--task",
                                   o.task,
                                   "--threads",
                                   std::to_string(o.threads),
                                   "--steps",
                                   std::to_string(o.steps),
                                   "--batch-size",
                                   std::to_string(o.batch_size),
                                   "--virtual-tokens",
                                   std::to_string(o.virtual_tokens),
                                   "--lr",
                                   num_arg(o.lr),
                                   "--seed",
                                   std::to_string(o.seed),
                                   "--dev-limit",
                                   dev_limit_args(o)};
  ChildResult c = run_child(args, tmp, "peft");
  row.wall_s = c.wall_s;
  row.rss_mib = c.max_rss_mib;
  json j = last_json_line(c.out);
  if (c.status != 0 || !j.is_object()) {
    row.error = "peft_tune.py exited " + std::to_string(c.status) + ":\n" + tail(c.err, 8);
    return row;
  }
  row.ex_per_s = num(j, "train_examples_per_s");
  row.train_s = num(j, "train_seconds");
  row.dev_acc = num(j, "dev_accuracy");
  row.dev_before = num(j, "dev_accuracy_before");
  row.self_rss_mib = num(j, "peak_rss_mb");
  row.ok = row.ex_per_s > 0 && row.dev_acc >= 0;
  if (!row.ok) row.error = "peft_tune.py printed no train_examples_per_s / dev_accuracy";
  *info = j;
  return row;
}

std::string mib(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.0f", v);
  return v >= 0 ? b : "?";
}

std::string acc(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4f", v);
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
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--model" || a == "-m")
      o.model = value();
    else if (a == "--task")
      o.task = value();
    else if (a == "--threads")
      o.threads = std::stoi(value());
    else if (a == "--steps")
      o.steps = std::stoi(value());
    else if (a == "--batch-size")
      o.batch_size = std::stoi(value());
    else if (a == "--virtual-tokens")
      o.virtual_tokens = std::stoi(value());
    else if (a == "--lr")
      o.lr = std::stod(value());
    else if (a == "--seed")
      o.seed = static_cast<unsigned>(std::stoul(value()));
    else if (a == "--dev-limit")
      o.dev_limit = std::stoi(value());
    else if (a == "--ptune")
      o.cli = value();
    else if (a == "--ptune-arg")
      o.ptune_args.push_back(value());
    else if (a == "--no-anchor")
      o.anchor = false;
    else if (a == "--keep")
      o.keep = true;
    else if (a == "-h" || a == "--help") {
      std::cout << "tune_bench [--model PATH] [--task PATH] [--threads N (2)] [--steps N (60)]\n"
                   "           [--batch-size N (8)] [--virtual-tokens N (20)] [--lr X (0.03)]\n"
                   "           [--seed N (42)] [--dev-limit N (0 = all)] [--ptune CLI]\n"
                   "           [--ptune-arg ARG (repeatable: passed on to ptune tune)]\n"
                   "           [--no-anchor (ptune only)] [--keep (keep the temp folder)]\n";
      std::exit(0);
    } else {
      throw std::runtime_error("unknown argument " + a);
    }
  }
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

}  // namespace

int main(int argc, char** argv) {
  // Like ptune itself: OMP_WAIT_POLICY=PASSIVE unless set. Both children inherit the same
  // environment, so ptune and PEFT run under the same OpenMP policy.
  ptune::reexec_with_passive_openmp(argv);
  try {
    Options o = parse(argc, argv);
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
    if (!is_file(o.model)) throw std::runtime_error("model not found: " + o.model);
    if (!is_file(o.cli)) throw std::runtime_error("ptune CLI not found: " + o.cli);

    std::string tmpl = (std::filesystem::temp_directory_path() / "tune_bench.XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    const std::string tmp = tmpl;

    Row pt = run_ptune(o, tmp);
    std::printf("ptune: %s\n", pt.ok ? "done" : "failed");
    std::fflush(stdout);

    Row pe;
    pe.name = "PEFT";
    json info;
    const std::string py = find_python(repo_root());
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

    std::printf("\n%-11s %12s %14s %14s %12s %10s\n", "trainer", "train ex/s", "peak RSS MiB",
                "dev accuracy", "train s", "wall s");
    print_row(pt);
    print_row(pe);
    if (pt.ok && pe.ok) {
      const double speed = pt.ex_per_s / pe.ex_per_s, mem = pt.rss_mib / pe.rss_mib,
                   dacc = pt.dev_acc - pe.dev_acc;
      std::printf("%-11s %11.2fx %13.2fx %+14.4f\n", "ptune/PEFT", speed, mem, dacc);
      const bool a1 = speed >= 1.5, a2 = mem <= 1.0, a3 = dacc >= 0;
      std::printf(
          "\naims: throughput >= 1.5x PEFT: %s (%.2fx); peak RSS <= PEFT: %s (%.2fx); "
          "dev accuracy >= PEFT: %s (%+.4f)  => %s\n",
          a1 ? "yes" : "NO", speed, a2 ? "yes" : "NO", mem, a3 ? "yes" : "NO", dacc,
          a1 && a2 && a3 ? "all hold" : "not all hold");
    }
    std::printf(
        "\npeak RSS: wait4() ru_maxrss of each child, the whole process (model load "
        "included).");
    if (pt.self_rss_mib > 0 || pe.self_rss_mib > 0)
      std::printf(" Self-reported: ptune %s MiB, PEFT %s MiB.", mib(pt.self_rss_mib).c_str(),
                  mib(pe.self_rss_mib).c_str());
    std::printf(
        "\ntrain ex/s: optimizer steps only (padding the batch, forward, backward, clipping, "
        "AdamW), no model load, no evaluation.\n");
    if (pt.dev_before >= 0 || pe.dev_before >= 0)
      std::printf("dev accuracy before training (the initial prompts differ): ptune %s, PEFT %s\n",
                  acc(pt.dev_before).c_str(), acc(pe.dev_before).c_str());
    if (!pt.note.empty()) std::printf("note: %s\n", pt.note.c_str());
    if (pe.ok)
      std::printf(
          "note: PEFT's loss: transformers' causal-LM loss, full-vocabulary cross-entropy "
          "on the label tokens\n");
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
