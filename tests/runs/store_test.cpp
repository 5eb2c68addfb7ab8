// The run store: writing and reading runs, filters, deletion, file hashes, refusing files that
// are not stores, and the two promises of store.h that matter most: a process killed mid-run
// leaves the store consistent with that run marked interrupted, and concurrent writers lose
// nothing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "ptune/runs/recorder.h"
#include "ptune/runs/store.h"

namespace ptune::runs {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ptune_store_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    path_ = (dir_ / "sub" / "ptune.db").string();  // the folder does not exist yet
  }
  void TearDown() override { fs::remove_all(dir_); }

  static runs::Run eval_run(const std::string& task) {
    runs::Run r;
    r.command = "eval";
    r.argv = {"ptune", "eval", "--task", task + ".json"};
    r.task = task;
    r.model = "m.gguf";
    r.settings = {{"split", "test"}};
    return r;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(StoreTest, RoundTripsARun) {
  Store store(path_);
  const int64_t id = store.begin(eval_run("sentiment"));
  store.add_step(id, {{"step", 1}, {"loss", 0.5}});
  store.add_step(id, {{"step", 2}, {"loss", 0.25}, {"eval", 0.8}});
  const nlohmann::json metrics = {{"accuracy", {{"value", 0.75}, {"low", 0.5}, {"high", 1.0}}}};
  store.finish(
      id, metrics,
      {{{"source", "t.jsonl:1"}, {"correct", true}}, {{"source", "t.jsonl:2"}, {"correct", false}}},
      {{"/x/summary.json", "summary", "ab"}});
  const runs::Run r = Store(path_).get(id);  // a second connection sees it all
  EXPECT_EQ(r.command, "eval");
  EXPECT_EQ(r.status, Status::Finished);
  EXPECT_EQ(r.argv.size(), 4u);
  EXPECT_EQ(r.settings["split"], "test");
  EXPECT_EQ(r.metrics, metrics);
  ASSERT_EQ(r.steps.size(), 2u);
  EXPECT_EQ(r.steps[1]["eval"], 0.8);
  ASSERT_EQ(r.examples.size(), 2u);
  EXPECT_EQ(r.examples[1]["source"], "t.jsonl:2");
  ASSERT_EQ(r.artifacts.size(), 1u);
  EXPECT_EQ(r.artifacts[0].kind, "summary");
  EXPECT_FALSE(r.started_at.empty());
  EXPECT_FALSE(r.finished_at.empty());
}

TEST_F(StoreTest, ListFiltersNewestFirstAndRemoveDeletes) {
  Store store(path_);
  const int64_t a = store.begin(eval_run("sentiment"));
  runs::Run tune = eval_run("intent");
  tune.command = "tune";
  const int64_t b = store.begin(tune);
  runs::Run bench = eval_run("");
  bench.command = "bench:runtime_bench";
  const int64_t c = store.begin(bench);
  store.fail(b, "boom");
  EXPECT_EQ(store.list().front().id, c);
  RunFilter by_task;
  by_task.task = "intent";
  ASSERT_EQ(store.list(by_task).size(), 1u);
  EXPECT_EQ(store.list(by_task)[0].error, "boom");
  RunFilter benches;
  benches.command = "bench:";
  ASSERT_EQ(store.list(benches).size(), 1u);
  RunFilter failed;
  failed.status = Status::Failed;
  EXPECT_EQ(store.list(failed).size(), 1u);
  RunFilter future;
  future.since = "2999-01-01";
  EXPECT_TRUE(store.list(future).empty());
  EXPECT_EQ(store.remove({a, 999}), 1u);
  EXPECT_THROW(store.get(a), std::invalid_argument);
  EXPECT_EQ(store.list().size(), 2u);
}

TEST_F(StoreTest, RefusesAFileThatIsNotAStore) {
  fs::create_directories(dir_);
  const std::string junk = (dir_ / "junk.db").string();
  std::ofstream(junk) << "this is not sqlite, just text that is long enough to have a header.....";
  try {
    Store s(junk);
    FAIL() << "opened a text file as a store";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(junk), std::string::npos) << e.what();
  }
  EXPECT_THROW(Store((dir_ / "missing.db").string(), /*create=*/false), std::runtime_error);
}

TEST_F(StoreTest, RefusesANewerSchema) {
  { Store s(path_); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'", nullptr, nullptr,
               nullptr);
  sqlite3_close(db);
  try {
    Store s(path_);
    FAIL() << "opened a newer store";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos) << e.what();
  }
}

TEST_F(StoreTest, HashesFilesOnceAndCorrectly) {
  fs::create_directories(dir_);
  const std::string f = (dir_ / "abc.txt").string();
  std::ofstream(f) << "abc";
  EXPECT_EQ(sha256_file(f), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Store store(path_);
  EXPECT_EQ(store.file_sha256(f), sha256_file(f));
  std::ofstream(f) << "abcd";  // a new version of the file is hashed again
  EXPECT_EQ(store.file_sha256(f),
            "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589");
}

TEST_F(StoreTest, ARecorderLeftWithoutFinishingRecordsAFailure) {
  int64_t id = 0;
  {
    Recorder rec(path_, {"eval", {"ptune", "eval"}, "", "", "t", {}, ""});
    id = rec.id();
    EXPECT_EQ(rec.where(), "run " + std::to_string(id) + " in " + path_);
  }
  const runs::Run r = Store(path_).get(id);
  EXPECT_EQ(r.status, Status::Failed);
  EXPECT_FALSE(r.error.empty());
}

// A child writes steps in a loop and is killed with SIGKILL mid-run: the store passes SQLite's
// integrity check, every committed step is there, and the run reads as interrupted.
TEST_F(StoreTest, KillNineLeavesAConsistentStoreAndAnInterruptedRun) {
  { Store s(path_); }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    Store store(path_);
    const int64_t id = store.begin(eval_run("killed"));
    for (int i = 0;; ++i) {
      store.add_step(id, {{"step", i}, {"loss", 1.0 / (i + 1)}, {"pad", std::string(500, 'x')}});
      if (i == 20) (void)!write(fds[1], "x", 1);  // enough steps: the parent may kill now
    }
  }
  close(fds[1]);
  char c;
  ASSERT_EQ(read(fds[0], &c, 1), 1);
  usleep(20000);  // mid-write, most likely
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  Store store(path_);  // opening marks the dead process's run
  const std::vector<runs::Run> runs = store.list();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, Status::Interrupted);
  const runs::Run r = store.get(runs[0].id);
  ASSERT_GE(r.steps.size(), 21u);
  for (size_t i = 0; i < r.steps.size(); ++i) EXPECT_EQ(r.steps[i]["step"], i);  // no gap
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

// Two processes record 25 runs each (steps and examples) into one store at the same time.
TEST_F(StoreTest, TwoConcurrentWritersLoseNothing) {
  { Store s(path_); }
  pid_t kids[2];
  for (int k = 0; k < 2; ++k) {
    kids[k] = fork();
    ASSERT_GE(kids[k], 0);
    if (kids[k] == 0) {
      int rc = 0;
      try {
        Store store(path_);
        for (int i = 0; i < 25; ++i) {
          const int64_t id = store.begin(eval_run("writer" + std::to_string(k)));
          for (int s = 0; s < 4; ++s) store.add_step(id, {{"step", s}});
          store.finish(id, {{"i", i}}, {{{"source", "a:1"}}, {{"source", "a:2"}}}, {});
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "writer %d: %s\n", k, e.what());
        rc = 1;
      }
      _exit(rc);
    }
  }
  for (pid_t kid : kids) {
    int status = 0;
    waitpid(kid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  Store store(path_);
  for (int k = 0; k < 2; ++k) {
    RunFilter f;
    f.task = "writer" + std::to_string(k);
    const std::vector<runs::Run> runs = store.list(f);
    ASSERT_EQ(runs.size(), 25u);
    for (const runs::Run& r : runs) {
      EXPECT_EQ(r.status, Status::Finished);
      const runs::Run full = store.get(r.id);
      EXPECT_EQ(full.steps.size(), 4u);
      EXPECT_EQ(full.examples.size(), 2u);
    }
  }
}

}  // namespace
}  // namespace ptune::runs
