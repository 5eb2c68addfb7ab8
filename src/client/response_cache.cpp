// The response cache's SQLite file (see ptune/client/response_cache.h). Schema:
//   responses(key TEXT PRIMARY KEY, body TEXT, created INTEGER)   one row per request
//   meta(name TEXT PRIMARY KEY, value TEXT)                         format =
//   "ptune-response-cache/1"
#include "ptune/client/response_cache.h"

#include <openssl/evp.h>
#include <sqlite3.h>

#include <ctime>
#include <stdexcept>

namespace ptune::client {

namespace {

constexpr const char* kFormat = "ptune-response-cache/1";

std::string hex(const unsigned char* bytes, unsigned n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("response cache: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  void bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  bool step() {  // true while rows come
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("response cache: ") + sqlite3_errmsg(db_));
  }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : "";
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

void exec(sqlite3* db, const char* sql, const std::string& path) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string what = err ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error("--cache " + path + ": " + what);
  }
}

}  // namespace

ResponseCache::ResponseCache(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    const std::string what = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("--cache " + path + ": cannot open (" + what + ")");
  }
  try {
    sqlite3_busy_timeout(db_, 10000);  // another process writing: wait, do not fail
    exec(db_,
         "PRAGMA journal_mode=WAL;"
         "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT);"
         "CREATE TABLE IF NOT EXISTS responses(key TEXT PRIMARY KEY, body TEXT NOT NULL,"
         " created INTEGER NOT NULL);"
         "INSERT OR IGNORE INTO meta VALUES('format', 'ptune-response-cache/1');",
         path);
    Statement q(db_, "SELECT value FROM meta WHERE name = 'format'");
    if (!q.step() || q.text(0) != kFormat) {
      throw std::runtime_error("--cache " + path + ": not a ptune response cache");
    }
  } catch (const std::exception& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    // SQLite says "file is not a database" for a file of another kind.
    const std::string what = e.what();
    throw std::runtime_error(what.rfind("--cache", 0) == 0 ? what
                                                           : "--cache " + path + ": " + what);
  }
}

ResponseCache::~ResponseCache() {
  sqlite3_close(db_);
}

std::string ResponseCache::key(const std::string& url, const std::string& path,
                               const nlohmann::json& body) {
  // nlohmann::json objects keep their keys sorted, so equal requests dump equally.
  const std::string text = url + '\n' + path + '\n' +
                           body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(text.data(), text.size(), digest, &n, EVP_sha256(), nullptr);
  return hex(digest, n);
}

std::optional<nlohmann::json> ResponseCache::get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(db_, "SELECT body FROM responses WHERE key = ?");
  q.bind(1, key);
  if (!q.step()) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(q.text(0), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

void ResponseCache::put(const std::string& key, const nlohmann::json& response) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(db_, "INSERT OR REPLACE INTO responses VALUES(?, ?, ?)");
  q.bind(1, key);
  q.bind(2, response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  q.bind(3, static_cast<int64_t>(std::time(nullptr)));
  q.step();
}

}  // namespace ptune::client
