// A thin RAII layer over SQLite's C API for the run store: one connection, prepared statements
// with typed binds, transactions that roll back unless committed. Every SQLite error becomes a
// std::runtime_error carrying the database path and SQLite's message.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace ptune::runs::sql {

class Statement;

class Db {
 public:
  // Opens (creating when `create`) the database at `path`; waits up to `busy_ms` for locks held
  // by other processes before failing with "database is locked".
  Db(const std::string& path, bool create, int busy_ms = 15000);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const std::string& sql);  // one or more statements without results
  Statement prepare(const std::string& sql);
  int64_t last_insert_id() const;
  int changes() const;
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(const std::string& what) const;  // throws with sqlite3_errmsg

 private:
  friend class Statement;
  sqlite3* db_ = nullptr;
  std::string path_;
};

class Statement {
 public:
  Statement(Db& db, const std::string& sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  // Binds are 1-based, as in SQLite; each returns *this so they chain.
  Statement& bind(int i, const std::string& v);
  Statement& bind(int i, int64_t v);
  Statement& bind(int i, double v);
  Statement& bind_null(int i);
  // Advances: true while a row is available, false when done.
  bool step();
  void run();    // step() to completion, for statements without results
  void reset();  // ready to bind and run again

  std::string text(int col) const;  // "" for NULL
  int64_t integer(int col) const;
  double real(int col) const;
  bool is_null(int col) const;

 private:
  Db* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE (the write lock up front, so two writers queue instead of deadlocking);
// rolls back in the destructor unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace ptune::runs::sql
