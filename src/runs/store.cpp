// Opening the run store and writing runs; reading is in store_read.cpp. See
// include/ptune/runs/store.h for the tables and the consistency rules.
#include "ptune/runs/store.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "process.h"
#include "ptune/util/files.h"
#include "sqlite.h"
#include "store_detail.h"

namespace ptune::runs {

namespace {

constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  command TEXT NOT NULL, argv TEXT NOT NULL, version TEXT NOT NULL,
  started_at TEXT NOT NULL, finished_at TEXT,
  status TEXT NOT NULL CHECK(status IN ('running', 'finished', 'failed', 'interrupted')),
  error TEXT NOT NULL DEFAULT '',
  model TEXT NOT NULL, model_sha256 TEXT NOT NULL,
  task TEXT NOT NULL, task_path TEXT NOT NULL, task_sha256 TEXT NOT NULL,
  settings TEXT NOT NULL, metrics TEXT NOT NULL,
  host TEXT NOT NULL, pid INTEGER NOT NULL, pid_start TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS runs_started ON runs(started_at);
CREATE TABLE IF NOT EXISTS steps(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY(run_id, seq));
CREATE TABLE IF NOT EXISTS examples(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL, source TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY(run_id, seq));
CREATE TABLE IF NOT EXISTS artifacts(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  path TEXT NOT NULL, kind TEXT NOT NULL, sha256 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS file_hashes(
  path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL);
)sql";

}  // namespace

std::string default_store_path() {
  const char* env = std::getenv("PTUNE_RUNS");
  return env && *env ? env : "runs/ptune.db";
}

Store::Store(const std::string& path, bool create) : path_(path) {
  if (path.empty()) throw std::invalid_argument("run store: empty path");
  struct stat st {};
  const bool exists = stat(path.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) {
    throw std::runtime_error("run store " + path + ": not a regular file");
  }
  if (!exists && !create) throw std::runtime_error("run store " + path + ": no such file");
  const size_t slash = path.find_last_of('/');
  if (!exists && slash != std::string::npos && slash > 0) {
    try {
      util::make_dirs(path.substr(0, slash));
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("run store " + path + ": " + e.what());
    }
  }
  db_ = std::make_unique<sql::Db>(path, create);
  try {
    db_->exec("PRAGMA foreign_keys = ON");
    db_->prepare("PRAGMA journal_mode = WAL").run();
    create_schema();
  } catch (const std::runtime_error& e) {
    // SQLite says "file is not a database"; say what the user pointed at.
    throw std::runtime_error(std::string(e.what()) + " (is it a ptune run store?)");
  }
  mark_interrupted();
}

Store::~Store() = default;

void Store::create_schema() {
  sql::Transaction tx(*db_);
  db_->exec(kSchema);
  auto get = db_->prepare("SELECT value FROM meta WHERE key = 'schema_version'");
  if (get.step()) {
    const int found = std::atoi(get.text(0).c_str());
    if (found > kSchemaVersion) {
      throw std::runtime_error("run store " + path_ + ": schema version " + get.text(0) +
                               " is newer than this ptune's (" + std::to_string(kSchemaVersion) +
                               "); use a newer ptune or another --runs file");
    }
  } else {
    db_->prepare("INSERT INTO meta(key, value) VALUES('schema_version', ?)")
        .bind(1, std::to_string(kSchemaVersion))
        .run();
  }
  tx.commit();
}

// Runs of this host left "running" by a process that no longer exists were interrupted.
void Store::mark_interrupted() {
  std::vector<int64_t> gone;
  {
    auto q =
        db_->prepare("SELECT id, pid, pid_start FROM runs WHERE status = 'running' AND host = ?");
    q.bind(1, detail::host_name());
    while (q.step()) {
      if (detail::process_start(q.integer(1)) != q.text(2)) gone.push_back(q.integer(0));
    }
  }
  if (gone.empty()) return;
  sql::Transaction tx(*db_);
  auto mark = db_->prepare(
      "UPDATE runs SET status = 'interrupted', error = 'the process ended without finishing "
      "the run (killed or crashed)' WHERE id = ? AND status = 'running'");
  for (int64_t id : gone) {
    mark.bind(1, id).run();
    mark.reset();
  }
  tx.commit();
}

int64_t Store::begin(const Run& run) {
  sql::Transaction tx(*db_);
  auto ins = db_->prepare(
      "INSERT INTO runs(command, argv, version, started_at, status, model, model_sha256, task, "
      "task_path, task_sha256, settings, metrics, host, pid, pid_start) "
      "VALUES(?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?)");
  const int64_t pid = detail::current_pid();
  ins.bind(1, run.command)
      .bind(2, detail::dump(nlohmann::json(run.argv)))
      .bind(3, run.version)
      .bind(4, utc_now())
      .bind(5, run.model)
      .bind(6, run.model_sha256)
      .bind(7, run.task)
      .bind(8, run.task_path)
      .bind(9, run.task_sha256)
      .bind(10, detail::dump(run.settings))
      .bind(11, detail::host_name())
      .bind(12, pid)
      .bind(13, detail::process_start(pid))
      .run();
  const int64_t id = db_->last_insert_id();
  tx.commit();
  return id;
}

void Store::add_step(int64_t id, const nlohmann::json& record) {
  sql::Transaction tx(*db_);
  db_->prepare(
         "INSERT INTO steps(run_id, seq, record) "
         "VALUES(?1, (SELECT COUNT(*) FROM steps WHERE run_id = ?1), ?2)")
      .bind(1, id)
      .bind(2, detail::dump(record))
      .run();
  tx.commit();
}

void Store::finish(int64_t id, const nlohmann::json& metrics,
                   const std::vector<nlohmann::json>& examples,
                   const std::vector<Artifact>& artifacts, const nlohmann::json& settings_update) {
  sql::Transaction tx(*db_);
  auto old = db_->prepare("SELECT settings FROM runs WHERE id = ?");
  old.bind(1, id);
  if (!old.step()) throw std::invalid_argument("no run " + std::to_string(id) + " in " + path_);
  nlohmann::json settings = detail::parse(old.text(0), id, "settings");
  settings.update(settings_update);
  auto ex = db_->prepare("INSERT INTO examples(run_id, seq, source, record) VALUES(?, ?, ?, ?)");
  for (size_t i = 0; i < examples.size(); ++i) {
    const nlohmann::json& r = examples[i];
    const std::string source = r.contains("source") && r["source"].is_string()
                                   ? r["source"].get<std::string>()
                                   : std::to_string(i);
    ex.bind(1, id).bind(2, static_cast<int64_t>(i)).bind(3, source).bind(4, detail::dump(r)).run();
    ex.reset();
  }
  auto art = db_->prepare("INSERT INTO artifacts(run_id, path, kind, sha256) VALUES(?, ?, ?, ?)");
  for (const Artifact& a : artifacts) {
    art.bind(1, id).bind(2, a.path).bind(3, a.kind).bind(4, a.sha256).run();
    art.reset();
  }
  db_->prepare(
         "UPDATE runs SET status = 'finished', finished_at = ?, metrics = ?, settings = ? "
         "WHERE id = ?")
      .bind(1, utc_now())
      .bind(2, detail::dump(metrics))
      .bind(3, detail::dump(settings))
      .bind(4, id)
      .run();
  tx.commit();
}

void Store::fail(int64_t id, const std::string& error) {
  sql::Transaction tx(*db_);
  db_->prepare("UPDATE runs SET status = 'failed', finished_at = ?, error = ? WHERE id = ?")
      .bind(1, utc_now())
      .bind(2, error)
      .bind(3, id)
      .run();
  tx.commit();
}

size_t Store::remove(const std::vector<int64_t>& ids) {
  sql::Transaction tx(*db_);
  auto del = db_->prepare("DELETE FROM runs WHERE id = ?");
  size_t n = 0;
  for (int64_t id : ids) {
    del.bind(1, id).run();
    n += static_cast<size_t>(db_->changes());
    del.reset();
  }
  tx.commit();
  return n;
}

std::string Store::file_sha256(const std::string& given) {
  struct stat st {};
  char* real = realpath(given.c_str(), nullptr);  // one cache entry per file, however named
  const std::string path = real ? real : given;
  std::free(real);
  if (stat(path.c_str(), &st) != 0) {
    throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  }
  const int64_t size = st.st_size;
  const int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  auto q =
      db_->prepare("SELECT sha256 FROM file_hashes WHERE path = ? AND size = ? AND mtime_ns = ?");
  q.bind(1, path).bind(2, size).bind(3, mtime);
  if (q.step()) return q.text(0);
  const std::string hash = sha256_file(path);
  sql::Transaction tx(*db_);
  db_->prepare(
         "INSERT OR REPLACE INTO file_hashes(path, size, mtime_ns, sha256) VALUES(?, ?, ?, ?)")
      .bind(1, path)
      .bind(2, size)
      .bind(3, mtime)
      .bind(4, hash)
      .run();
  tx.commit();
  return hash;
}

}  // namespace ptune::runs
