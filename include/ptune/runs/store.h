// The run store: one SQLite database (default runs/ptune.db; `--runs PATH` or $PTUNE_RUNS) that
// every measuring command records its run in, and that `ptune runs` and `ptune report` read.
//
// Tables (schema version 1; a newer store is refused, naming both versions):
//   runs         one row per run: command, argv (JSON), version, times, status, error, model and
//                task with their files' sha256, settings and metrics (JSON), host, pid
//   steps        run_id, seq, record (JSON): the per-step log
//   examples     run_id, seq, source, record (JSON): per-example predictions and scores
//   artifacts    run_id, path, kind, sha256
//   file_hashes  path, size, mtime -> sha256, so a 100 MB model is hashed once, not every run
//
// Consistency: WAL journal, every write one transaction (a run's row, each step, all of its
// examples with its final metrics), so a process killed at any point leaves the store
// consistent: the run it was writing stays "running" with whatever steps were committed. Opening
// a store marks such runs "interrupted" when their process (same host, same pid and start time)
// is gone. Several processes may write one store at once: writers queue on SQLite's lock (busy
// timeout 15 s), ids never clash.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ptune/runs/run.h"

namespace ptune::runs {

namespace sql {
class Db;
}

// $PTUNE_RUNS, else "runs/ptune.db" (relative to the working directory).
std::string default_store_path();

struct RunFilter {
  std::string command;           // "" = any; else equal, or a prefix ending in ':' ("bench:")
  std::string task;              // task name, "" = any
  std::string model;             // model file name (substring), "" = any
  std::string since, until;      // ISO dates or times (started_at >= since, < until), "" = open
  std::optional<Status> status;  // any when unset
  size_t limit = 0;              // newest first; 0 = all
};

class Store {
 public:
  // Opens the store at `path`, creating it (and its folder) when `create`; throws
  // std::runtime_error naming the path for a file that is not a run store, a newer schema, or
  // a store that does not exist when !create.
  explicit Store(const std::string& path, bool create = true);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const { return path_; }

  // Starts a run from run's command, argv, version, model, task and settings (status, times,
  // id are set here); returns its id.
  int64_t begin(const Run& run);
  void add_step(int64_t id, const nlohmann::json& record);
  // Ends a run: final metrics, its per-example records and artifacts, and what was learnt of
  // the settings on the way (merged into them: examples evaluated, seconds, ...), in one
  // transaction.
  void finish(int64_t id, const nlohmann::json& metrics,
              const std::vector<nlohmann::json>& examples, const std::vector<Artifact>& artifacts,
              const nlohmann::json& settings_update = nlohmann::json::object());
  void fail(int64_t id, const std::string& error);

  // Runs matching `filter`, newest first, without steps and examples (for tables).
  std::vector<Run> list(const RunFilter& filter = {}) const;
  // One run in full; throws std::invalid_argument when there is no run `id`.
  Run get(int64_t id) const;
  // Deletes the runs (their steps, examples and artifacts rows, not the files); returns how many
  // existed.
  size_t remove(const std::vector<int64_t>& ids);

  // The sha256 of a file, cached by (path, size, mtime): computed once per file version.
  std::string file_sha256(const std::string& path);

 private:
  void create_schema();
  void mark_interrupted();

  std::string path_;
  std::unique_ptr<sql::Db> db_;
};

// The sha256 (lowercase hex) of a file's bytes; throws std::runtime_error when unreadable.
std::string sha256_file(const std::string& path);
// "2026-12-01T14:05:09Z" for now.
std::string utc_now();

}  // namespace ptune::runs
