// Reading runs back from the store; see include/ptune/runs/store.h.
#include <stdexcept>

#include "ptune/runs/store.h"
#include "sqlite.h"
#include "store_detail.h"

namespace ptune::runs {

namespace {

constexpr const char* kRunColumns =
    "id, command, argv, version, started_at, finished_at, status, error, model, model_sha256, "
    "task, task_path, task_sha256, settings, metrics";

Run run_from_row(const sql::Statement& q) {
  Run r;
  r.id = q.integer(0);
  r.command = q.text(1);
  r.argv = detail::parse(q.text(2), r.id, "argv").get<std::vector<std::string>>();
  r.version = q.text(3);
  r.started_at = q.text(4);
  r.finished_at = q.text(5);
  r.status = status_from_string(q.text(6));
  r.error = q.text(7);
  r.model = q.text(8);
  r.model_sha256 = q.text(9);
  r.task = q.text(10);
  r.task_path = q.text(11);
  r.task_sha256 = q.text(12);
  r.settings = detail::parse(q.text(13), r.id, "settings");
  r.metrics = detail::parse(q.text(14), r.id, "metrics");
  return r;
}

// The WHERE clause and its values for a filter (every value bound, never spliced into SQL).
struct Where {
  std::string sql;
  std::vector<std::string> values;
  void add(const std::string& clause, const std::string& value) {
    sql += (sql.empty() ? " WHERE " : " AND ") + clause;
    values.push_back(value);
  }
};

Where where_for(const RunFilter& f) {
  Where w;
  if (!f.command.empty()) {
    w.add(f.command.back() == ':' ? "instr(command, ?) = 1" : "command = ?", f.command);
  }
  if (!f.task.empty()) w.add("task = ?", f.task);
  if (!f.model.empty()) w.add("instr(model, ?) > 0", f.model);
  if (!f.since.empty()) w.add("started_at >= ?", f.since);
  if (!f.until.empty()) w.add("started_at < ?", f.until);
  if (f.status) w.add("status = ?", to_string(*f.status));
  return w;
}

}  // namespace

std::vector<Run> Store::list(const RunFilter& filter) const {
  const Where w = where_for(filter);
  std::string q = std::string("SELECT ") + kRunColumns + " FROM runs" + w.sql + " ORDER BY id DESC";
  if (filter.limit > 0) q += " LIMIT " + std::to_string(filter.limit);
  auto st = db_->prepare(q);
  for (size_t i = 0; i < w.values.size(); ++i) st.bind(static_cast<int>(i + 1), w.values[i]);
  std::vector<Run> out;
  while (st.step()) out.push_back(run_from_row(st));
  return out;
}

Run Store::get(int64_t id) const {
  auto q = db_->prepare(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?");
  q.bind(1, id);
  if (!q.step()) {
    throw std::invalid_argument("no run " + std::to_string(id) + " in " + path_ +
                                " (ptune runs list shows the ids)");
  }
  Run r = run_from_row(q);
  auto steps = db_->prepare("SELECT record FROM steps WHERE run_id = ? ORDER BY seq");
  steps.bind(1, id);
  while (steps.step()) r.steps.push_back(detail::parse(steps.text(0), id, "steps.record"));
  auto ex = db_->prepare("SELECT record FROM examples WHERE run_id = ? ORDER BY seq");
  ex.bind(1, id);
  while (ex.step()) r.examples.push_back(detail::parse(ex.text(0), id, "examples.record"));
  auto art = db_->prepare("SELECT path, kind, sha256 FROM artifacts WHERE run_id = ?");
  art.bind(1, id);
  while (art.step()) r.artifacts.push_back({art.text(0), art.text(1), art.text(2)});
  return r;
}

}  // namespace ptune::runs
