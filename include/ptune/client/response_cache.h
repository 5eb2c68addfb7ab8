// An on-disk cache of API responses (one SQLite file), so an evaluation that is run again, or
// resumed after a failure, does not pay for the calls it already made.
//
// The key is the SHA-256 of the endpoint URL, the path and the request body (JSON with sorted
// keys); the API key is not part of it. Only successful responses are stored. An identical
// request always gets the stored response back: a sampled request (temperature > 0) replays its
// sample; ptune eval seeds every sampled request, so that is what it would get again anyway.
// Safe to share between threads (one connection behind a mutex) and between processes
// (SQLite's locking, WAL journal).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <string>

struct sqlite3;

namespace ptune::client {

class ResponseCache {
 public:
  // Opens or creates `path`. Throws std::runtime_error naming the file when it cannot be opened
  // or is not a ptune response cache.
  explicit ResponseCache(const std::string& path);
  ~ResponseCache();
  ResponseCache(const ResponseCache&) = delete;
  ResponseCache& operator=(const ResponseCache&) = delete;

  static std::string key(const std::string& url, const std::string& path,
                         const nlohmann::json& body);
  // The stored response, or unset. A stored body that no longer parses is treated as absent.
  std::optional<nlohmann::json> get(const std::string& key);
  void put(const std::string& key, const nlohmann::json& response);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  std::mutex mutex_;
};

}  // namespace ptune::client
