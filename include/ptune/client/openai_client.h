// A client for any OpenAI-compatible HTTP API (OpenAI, `ptune serve`, llama.cpp's server, vLLM):
// POSTs of JSON bodies with per-attempt timeouts, retries (ptune/client/retry.h), an optional
// response cache (ptune/client/response_cache.h), bounded concurrency and token accounting.
//
// The API key is read once, from the environment variable the options name; it goes into the
// Authorization header only, never into an error message, a log line or the cache key. HTTPS
// endpoints are verified against the system's CA bundle. HTTP is cpp-httplib's.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ptune/client/response_cache.h"
#include "ptune/client/retry.h"

namespace httplib {
class Client;
}

namespace ptune::client {

struct ClientOptions {
  // The API's base URL, with or without its version path: "http://127.0.0.1:8080" means
  // "http://127.0.0.1:8080/v1"; "https://api.openai.com/v1" is used as given.
  std::string endpoint;
  std::string api_key_env;       // environment variable holding the key; "" = send none
  double timeout_seconds = 120;  // per attempt: connect, write and each read
  int concurrency = 4;           // calls in flight at once (call_all)
  RetryPolicy retry;
  std::string cache_path;  // "" = no cache
  uint64_t seed = 0;       // jitter
};

// A call that failed for good: a status the client does not retry, or retries used up.
class ApiCallError : public std::runtime_error {
 public:
  ApiCallError(const std::string& message, int status, std::optional<size_t> request = {})
      : std::runtime_error(message), status_(status), request_(request) {}
  int status() const { return status_; }  // 0: no HTTP response (connection, timeout)
  // call_all: the index of the body whose call failed.
  std::optional<size_t> request() const { return request_; }

 private:
  int status_;
  std::optional<size_t> request_;
};

// What the calls cost, summed over the client's life.
struct CallStats {
  int64_t calls = 0;     // call()s answered (from the network or the cache)
  int64_t attempts = 0;  // HTTP requests sent
  int64_t retries = 0;   // attempts after a retryable failure
  int64_t cache_hits = 0;
  int64_t failed = 0;         // calls that ended in ApiCallError
  int64_t prompt_tokens = 0;  // usage of responses from the network
  int64_t completion_tokens = 0;
  int64_t cached_prompt_tokens = 0;  // usage of responses replayed from the cache (not paid again)
  int64_t cached_completion_tokens = 0;
  double wait_seconds = 0;  // slept before retries
  nlohmann::json to_json() const;
};

// The endpoint split for cpp-httplib: "scheme://host[:port]" and the base path ("/v1").
struct EndpointUrl {
  std::string origin, base_path;
};
// Throws std::invalid_argument naming what is wrong (no http(s) scheme, no host, a query).
EndpointUrl parse_endpoint(const std::string& url);

class OpenAiClient {
 public:
  // Throws std::invalid_argument for a bad endpoint or an api_key_env that is set but empty,
  // std::runtime_error for a cache that cannot be opened.
  explicit OpenAiClient(ClientOptions options);
  ~OpenAiClient();

  // POSTs `body` to base path + `path` ("/completions", "/chat/completions") and returns the
  // response's JSON. Throws ApiCallError with the status and the server's error message.
  nlohmann::json call(const std::string& path, const nlohmann::json& body);

  // Every body through call(), `concurrency` at once; results in the order of `bodies`. The first
  // failure stops the calls not yet started and is rethrown, with the index it belongs to, once
  // the running ones end. `progress` (may be null) is called after each call with the count done.
  std::vector<nlohmann::json> call_all(const std::string& path,
                                       const std::vector<nlohmann::json>& bodies,
                                       const std::function<void(size_t)>& progress = nullptr);

  CallStats stats() const;
  const ClientOptions& options() const { return options_; }
  // The endpoint as given (for records; never holds the key).
  const std::string& endpoint() const { return options_.endpoint; }

 private:
  struct Attempt;
  Attempt send(const std::string& path, const std::string& body);
  void count_usage(const nlohmann::json& response, bool cached);

  ClientOptions options_;
  EndpointUrl url_;
  std::string api_key_;
  std::unique_ptr<ResponseCache> cache_;
  mutable std::mutex mutex_;                            // stats_, rng_ and idle_
  std::vector<std::unique_ptr<httplib::Client>> idle_;  // kept-alive connections
  CallStats stats_;
  std::mt19937_64 rng_;
};

}  // namespace ptune::client
