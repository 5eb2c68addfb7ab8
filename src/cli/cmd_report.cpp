// ptune report [IDS] -o report.html: one self-contained HTML file (no network, works offline)
// drawing runs from the store: metric table with CI bars, learning curves, confusion matrices,
// reliability diagrams, search progress and the prompt x example matrix (ptune/report/report.h).
// Without ids, the newest --last N runs that match the filters.
#include <algorithm>
#include <iostream>
#include <memory>

#include "cli/common.h"
#include "cli/limits.h"
#include "cli/recording.h"
#include "io/atomic_file.h"
#include "ptune/report/report.h"
#include "ptune/runs/store.h"

namespace ptune::cli {

namespace {

struct ReportCli {
  RecordOptions record;
  runs::RunFilter filter;
  std::vector<int64_t> ids;
  std::string out = "report.html", title = "ptune report";
};

std::vector<runs::Run> chosen_runs(const ReportCli& cli) {
  runs::Store store(cli.record.store, false);
  std::vector<int64_t> ids = cli.ids;
  if (ids.empty()) {
    for (const runs::Run& r : store.list(cli.filter)) ids.push_back(r.id);
  }
  if (ids.empty()) {
    throw std::invalid_argument("no runs to report in " + store.path() +
                                " (run ptune eval or ptune tune first, or loosen the filters)");
  }
  std::sort(ids.begin(), ids.end());  // oldest first reads like the story of the work
  std::vector<runs::Run> out;
  for (int64_t id : ids) out.push_back(store.get(id));
  return out;
}

void run(const ReportCli& cli) {
  if (cli.out.empty()) throw std::invalid_argument("-o/--out: empty path");
  const std::vector<runs::Run> runs = chosen_runs(cli);
  report::ReportOptions o;
  o.title = cli.title;
  const std::string html = report::render_html(runs, o);
  const std::string err = io::write_file_atomically(cli.out, html.data(), html.size());
  if (!err.empty()) throw std::runtime_error("-o: " + err);
  std::cout << "wrote " << cli.out << " (" << runs.size() << " runs, " << html.size() / 1024
            << " KiB)\n";
}

}  // namespace

void register_report(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Draw runs from the store as one self-contained HTML page (works offline): metric table "
      "with 95% CI bars, learning curves, confusion matrices, reliability diagrams, search "
      "progress, and the prompt x example matrix with filters and a prompt diff.");
  auto cli = std::make_shared<ReportCli>();
  cli->filter.limit = 50;
  cmd->add_option("ids", cli->ids, "Run ids (default: the newest --last runs matching filters)")
      ->check(in_range(1, kMaxRunId));
  cmd->add_option("-o,--out", cli->out, "The HTML file to write")
      ->type_name("FILE")
      ->check(non_empty_path)
      ->capture_default_str();
  cmd->add_option("--title", cli->title, "Page title")->capture_default_str();
  cmd->add_option("-t,--task", cli->filter.task, "Without ids: only runs of this task");
  cmd->add_option("--command", cli->filter.command, "Without ids: only eval, tune, search, bench:");
  cmd->add_option("-n,--last", cli->filter.limit, "Without ids: the newest N runs (0 = all)")
      ->check(in_range(0, kMaxCount))
      ->capture_default_str();
  add_record_options(cmd, &cli->record, /*measuring=*/false);
  cmd->callback([cli] { run(*cli); });
}

}  // namespace ptune::cli
