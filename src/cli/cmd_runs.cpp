// ptune runs: the run store from the command line.
//   list      runs newest first, filtered by task, model, command, status and date
//   show ID   one run: command line, version, hashes, settings, metrics, steps, artifacts
//   compare A B   paired test on the examples both runs scored (ptune/runs/compare.h)
//   export ID --format jsonl|csv   the per-example records
//   delete ID...  removes runs from the store (not the files they wrote)
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/common.h"
#include "cli/limits.h"
#include "cli/recording.h"
#include "ptune/runs/compare.h"
#include "ptune/runs/export.h"
#include "ptune/runs/store.h"

namespace ptune::cli {

namespace {

struct RunsCli {
  RecordOptions record;
  runs::RunFilter filter;
  std::string status, format = "jsonl", out, metric;
  std::vector<int64_t> ids;
  int64_t a = 0, b = 0;
  uint64_t seed = 0;
  bool json_out = false, quiet = false;
};

std::string wall_time(const runs::Run& r) {
  if (r.settings.contains("seconds") && r.settings["seconds"].is_number()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", r.settings["seconds"].get<double>());
    return buf;
  }
  return "";
}

void print_list(const std::vector<runs::Run>& list, bool json_out, bool quiet) {
  if (quiet) {
    for (const runs::Run& r : list) std::cout << r.id << "\n";
    return;
  }
  if (json_out) {
    for (runs::Run r : list) std::cout << runs::to_json(r).dump() << "\n";
    return;
  }
  std::printf("%5s  %-11s  %-8s  %-16s  %-31s  %-20s  %9s  %s\n", "id", "status", "command", "task",
              "model", "started", "wall", "headline");
  for (const runs::Run& r : list) {
    std::printf("%5lld  %-11s  %-8s  %-16.16s  %-31.31s  %-20s  %9s  %s\n",
                static_cast<long long>(r.id), runs::to_string(r.status).c_str(), r.command.c_str(),
                r.task.c_str(), r.model.c_str(), r.started_at.c_str(), wall_time(r).c_str(),
                r.headline().c_str());
  }
  if (list.empty()) std::printf("(no runs)\n");
}

void print_show(const runs::Run& r) {
  std::string argv;
  for (const std::string& a : r.argv) argv += (argv.empty() ? "" : " ") + a;
  std::cout << "run " << r.id << "  " << r.command << "  " << runs::to_string(r.status) << "\n"
            << "command   " << argv << "\n"
            << "ptune     " << r.version << "\n"
            << "started   " << r.started_at << "  finished " << r.finished_at << "\n"
            << "model     " << r.model << "  sha256 " << r.model_sha256 << "\n";
  if (!r.task_path.empty()) {
    std::cout << "task      " << r.task << " (" << r.task_path << ")  sha256 " << r.task_sha256
              << "\n";
  }
  if (!r.error.empty()) std::cout << "error     " << r.error << "\n";
  std::cout << "\nmetric            value     95% CI\n";
  for (const auto& [name, m] : r.metrics.items()) {
    if (!m.is_object() || !m.contains("value") || !m["value"].is_number()) continue;
    if (m.contains("low") && m.contains("high")) {
      std::printf("%-14s %8.4f   [%.4f, %.4f]\n", name.c_str(), m["value"].get<double>(),
                  m.value("low", 0.0), m.value("high", 0.0));
    } else {  // a bench's figure: value and unit
      std::printf("%-14s %8.4g   %s\n", name.c_str(), m["value"].get<double>(),
                  m.value("unit", std::string()).c_str());
    }
  }
  std::cout << "\nsettings  "
            << r.settings.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n\nsteps " << r.steps.size() << ", examples " << r.examples.size() << "\n";
  for (const runs::Artifact& a : r.artifacts) {
    std::cout << "artifact  " << a.kind << "  " << a.path << (a.sha256.empty() ? "" : "  sha256 ")
              << a.sha256 << "\n";
  }
}

void print_compare(const runs::Run& a, const runs::Run& b, const runs::PairedComparison& c) {
  std::printf("A = run %lld (%s)\nB = run %lld (%s)\n", static_cast<long long>(a.id),
              a.label().c_str(), static_cast<long long>(b.id), b.label().c_str());
  std::printf("%s on %zu shared examples (%zu only in A, %zu only in B)\n", c.metric.c_str(),
              c.shared, c.only_a, c.only_b);
  std::printf("A %.4f   B %.4f   B better on %zu, A better on %zu\n", c.a, c.b, c.b_better,
              c.a_better);
  std::printf("%s\n", c.summary().c_str());
  std::printf("%s\n", c.significant ? (c.difference > 0 ? "B is significantly better (p < 0.05)"
                                                        : "A is significantly better (p < 0.05)")
                                    : "no significant difference (p >= 0.05)");
}

void add_list(CLI::App* runs_cmd, const std::shared_ptr<RunsCli>& cli) {
  CLI::App* cmd = runs_cmd->add_subcommand("list", "Runs, newest first");
  runs::RunFilter& f = cli->filter;
  cmd->add_option("-t,--task", f.task, "Only runs of this task (its name)");
  cmd->add_option("--model", f.model, "Only runs whose model file name contains this");
  cmd->add_option("--command", f.command, "Only eval, tune, search, or bench: for every bench");
  cmd->add_option("--status", cli->status, "Only running, finished, failed or interrupted runs")
      ->check(CLI::IsMember({"running", "finished", "failed", "interrupted"}));
  cmd->add_option("--since", f.since, "Started at or after (ISO date or time, UTC)");
  cmd->add_option("--until", f.until, "Started before (ISO date or time, UTC)");
  cmd->add_option("-n,--last", f.limit, "Only the newest N (0 = all)")
      ->check(in_range(0, kMaxCount))
      ->capture_default_str();
  cmd->add_flag("--json", cli->json_out, "One JSON object per run");
  cmd->add_flag("-q,--quiet", cli->quiet, "Only the ids, one per line (for scripts)");
  cmd->callback([cli] {
    if (!cli->status.empty()) cli->filter.status = runs::status_from_string(cli->status);
    print_list(runs::Store(cli->record.store, false).list(cli->filter), cli->json_out, cli->quiet);
  });
}

void add_show(CLI::App* runs_cmd, const std::shared_ptr<RunsCli>& cli) {
  CLI::App* cmd = runs_cmd->add_subcommand("show", "One run in full");
  cmd->add_option("id", cli->a, "Run id")->required()->check(in_range(1, kMaxRunId));
  cmd->add_flag("--json", cli->json_out, "The whole run as JSON (steps and examples included)");
  cmd->callback([cli] {
    const runs::Run r = runs::Store(cli->record.store, false).get(cli->a);
    if (cli->json_out) {
      std::cout << runs::to_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
    } else {
      print_show(r);
    }
  });
}

void add_compare(CLI::App* runs_cmd, const std::shared_ptr<RunsCli>& cli) {
  CLI::App* cmd = runs_cmd->add_subcommand(
      "compare",
      "Paired test of B against A on the examples both scored: the difference with its 95% "
      "bootstrap CI and a p-value (exact McNemar for right/wrong, sign-flip permutation else)");
  cmd->add_option("a", cli->a, "Run A (the baseline)")->required()->check(in_range(1, kMaxRunId));
  cmd->add_option("b", cli->b, "Run B")->required()->check(in_range(1, kMaxRunId));
  cmd->add_option("--metric", cli->metric,
                  "Per-example value: accuracy (default) or a number the records carry "
                  "(exact_match, token_f1, rouge_l, gold_nll, ...)");
  cmd->add_option("--seed", cli->seed, "Seed of the bootstrap and permutations")
      ->check(in_range(0, kMaxSeed))
      ->capture_default_str();
  cmd->callback([cli] {
    runs::Store store(cli->record.store, false);
    const runs::Run a = store.get(cli->a), b = store.get(cli->b);
    runs::CompareOptions o;
    o.metric = cli->metric;
    o.seed = cli->seed;
    print_compare(a, b, runs::compare_runs(a, b, o));
  });
}

void add_export(CLI::App* runs_cmd, const std::shared_ptr<RunsCli>& cli) {
  CLI::App* cmd = runs_cmd->add_subcommand("export", "A run's per-example records");
  cmd->add_option("id", cli->a, "Run id")->required()->check(in_range(1, kMaxRunId));
  cmd->add_option("--format", cli->format, "jsonl or csv")
      ->check(CLI::IsMember({"jsonl", "csv"}))
      ->capture_default_str();
  cmd->add_option("-o,--out", cli->out, "Write to this file (default: stdout)")
      ->type_name("FILE")
      ->check(non_empty_path);
  cmd->callback([cli] {
    const runs::Run r = runs::Store(cli->record.store, false).get(cli->a);
    if (cli->out.empty()) {
      runs::export_examples(r, cli->format, std::cout);
      return;
    }
    std::ofstream f(cli->out, std::ios::binary);
    runs::export_examples(r, cli->format, f);
    f.close();
    if (!f) throw std::runtime_error("-o: cannot write " + cli->out);
    std::cerr << "wrote " << r.examples.size() << " examples to " << cli->out << "\n";
  });
}

void add_delete(CLI::App* runs_cmd, const std::shared_ptr<RunsCli>& cli) {
  CLI::App* cmd = runs_cmd->add_subcommand(
      "delete", "Remove runs from the store (the files they wrote stay where they are)");
  cmd->add_option("ids", cli->ids, "Run ids")->required()->check(in_range(1, kMaxRunId));
  cmd->callback([cli] {
    const size_t n = runs::Store(cli->record.store, false).remove(cli->ids);
    std::cout << "deleted " << n << " of " << cli->ids.size() << " run(s)\n";
    if (n < cli->ids.size()) throw std::invalid_argument("some of the ids were not in the store");
  });
}

}  // namespace

void register_runs(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "runs",
      "The run store: every eval and tune is recorded (--runs PATH, $PTUNE_RUNS, default "
      "runs/ptune.db). list, show, compare, export, delete.");
  cmd->require_subcommand(1);
  auto cli = std::make_shared<RunsCli>();
  add_record_options(cmd, &cli->record, /*measuring=*/false);
  add_list(cmd, cli);
  add_show(cmd, cli);
  add_compare(cmd, cli);
  add_export(cmd, cli);
  add_delete(cmd, cli);
  // --runs may come after the verb too (ptune runs list --runs PATH).
  for (CLI::App* sub : cmd->get_subcommands({})) sub->fallthrough();
}

}  // namespace ptune::cli
