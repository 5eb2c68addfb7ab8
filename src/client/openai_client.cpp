// The OpenAI-compatible API client (see ptune/client/openai_client.h).
#include "ptune/client/openai_client.h"

#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <thread>

#include "ptune/util/errors.h"

namespace ptune::client {

using nlohmann::json;

namespace {

// Where Debian (and most Linux distributions) keep the CA bundle.
constexpr const char* kCaBundle = "/etc/ssl/certs/ca-certificates.crt";

std::string clip(const std::string& s, size_t n = 300) {
  return s.size() <= n ? s : s.substr(0, n) + "...";
}

std::unique_ptr<httplib::Client> connect(const EndpointUrl& url, double timeout) {
  auto c = std::make_unique<httplib::Client>(url.origin);
  const auto seconds = static_cast<time_t>(timeout);
  const auto micros = static_cast<time_t>((timeout - static_cast<double>(seconds)) * 1e6);
  c->set_connection_timeout(seconds, micros);
  c->set_read_timeout(seconds, micros);
  c->set_write_timeout(seconds, micros);
  c->set_keep_alive(true);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  if (url.origin.rfind("https://", 0) == 0) {
    if (std::filesystem::exists(kCaBundle)) c->set_ca_cert_path(kCaBundle);
    c->enable_server_certificate_verification(true);
  }
#endif
  return c;
}

// The message of an error response: OpenAI's {"error": {"message"}}, else the body's start.
std::string error_message(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    const json& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) {
      return e["message"].get<std::string>();
    }
    if (e.is_string()) return e.get<std::string>();
  }
  return body.empty() ? "(empty body)" : clip(body);
}

}  // namespace

json CallStats::to_json() const {
  return {{"calls", calls},
          {"attempts", attempts},
          {"retries", retries},
          {"cache_hits", cache_hits},
          {"failed", failed},
          {"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"cached_prompt_tokens", cached_prompt_tokens},
          {"cached_completion_tokens", cached_completion_tokens},
          {"retry_wait_seconds", wait_seconds}};
}

EndpointUrl parse_endpoint(const std::string& url) {
  const size_t scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    throw std::invalid_argument("--endpoint '" + util::clipped(url) +
                                "': give an http:// or https:// URL");
  }
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
  if (scheme == "https") {
    throw std::invalid_argument("--endpoint: this build's cpp-httplib has no HTTPS support");
  }
#endif
  if (url.find_first_of("?#") != std::string::npos) {
    throw std::invalid_argument("--endpoint '" + util::clipped(url) +
                                "': a base URL has no query or fragment");
  }
  const size_t host_start = scheme_end + 3;
  const size_t path_start = url.find('/', host_start);
  EndpointUrl out;
  out.origin = url.substr(0, path_start);
  if (out.origin.size() == host_start) {
    throw std::invalid_argument("--endpoint '" + util::clipped(url) + "': no host");
  }
  out.base_path = path_start == std::string::npos ? "" : url.substr(path_start);
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  if (out.base_path.empty()) out.base_path = "/v1";  // the OpenAI API's only version
  return out;
}

struct OpenAiClient::Attempt {
  int status = 0;  // 0: no response
  std::string body, transport_error;
  std::optional<double> retry_after;
};

OpenAiClient::OpenAiClient(ClientOptions options)
    : options_(std::move(options)), url_(parse_endpoint(options_.endpoint)), rng_(options_.seed) {
  if (options_.concurrency < 1) throw std::invalid_argument("--concurrency must be at least 1");
  if (!options_.api_key_env.empty()) {
    const char* key = std::getenv(options_.api_key_env.c_str());
    if (key != nullptr && *key == '\0') {
      throw std::invalid_argument("--api-key-env " + options_.api_key_env +
                                  ": the variable is set but empty");
    }
    if (key != nullptr) api_key_ = key;
  }
  if (!options_.cache_path.empty()) cache_ = std::make_unique<ResponseCache>(options_.cache_path);
}

OpenAiClient::~OpenAiClient() = default;

OpenAiClient::Attempt OpenAiClient::send(const std::string& path, const std::string& body) {
  // An idle connection of the pool, or a new one; back to the pool when the attempt succeeded
  // (a broken connection is dropped).
  std::unique_ptr<httplib::Client> client;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      client = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!client) client = connect(url_, options_.timeout_seconds);
  httplib::Headers headers;
  if (!api_key_.empty()) headers.emplace("Authorization", "Bearer " + api_key_);
  Attempt a;
  httplib::Result r =
      client->Post((url_.base_path + path).c_str(), headers, body, "application/json");
  if (!r) {
    a.transport_error = httplib::to_string(r.error());
    return a;
  }
  a.status = r->status;
  a.body = r->body;
  a.retry_after = parse_retry_after(r->get_header_value("Retry-After"),
                                    r->get_header_value("retry-after-ms"), std::time(nullptr));
  std::lock_guard<std::mutex> lock(mutex_);
  idle_.push_back(std::move(client));
  return a;
}

void OpenAiClient::count_usage(const json& response, bool cached) {
  const json* usage =
      response.is_object() && response.contains("usage") ? &response["usage"] : nullptr;
  auto tokens = [&](const char* key) -> int64_t {
    if (usage == nullptr || !usage->is_object() || !usage->contains(key)) return 0;
    const json& v = (*usage)[key];
    return v.is_number_integer() ? v.get<int64_t>() : 0;
  };
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.calls;
  if (cached) {
    ++stats_.cache_hits;
    stats_.cached_prompt_tokens += tokens("prompt_tokens");
    stats_.cached_completion_tokens += tokens("completion_tokens");
  } else {
    stats_.prompt_tokens += tokens("prompt_tokens");
    stats_.completion_tokens += tokens("completion_tokens");
  }
}

json OpenAiClient::call(const std::string& path, const json& body) {
  const std::string key =
      cache_ ? ResponseCache::key(url_.origin + url_.base_path, path, body) : std::string();
  if (cache_) {
    if (std::optional<json> hit = cache_->get(key)) {
      count_usage(*hit, /*cached=*/true);
      return *hit;
    }
  }
  const std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  const std::string where = "POST " + url_.base_path + path;
  for (int k = 0;; ++k) {
    const Attempt a = send(path, text);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.attempts;
    }
    if (a.status == 200) {
      json j = json::parse(a.body, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.is_object()) {
        std::lock_guard<std::mutex> lock(mutex_);
        ++stats_.failed;
        throw ApiCallError(where + ": the response is not a JSON object: " + clip(a.body), 200);
      }
      if (cache_) cache_->put(key, j);
      count_usage(j, /*cached=*/false);
      return j;
    }
    const std::string what =
        a.status == 0 ? a.transport_error
                      : "HTTP " + std::to_string(a.status) + ": " + error_message(a.body);
    const bool retryable = a.status == 0 || options_.retry.retryable_status(a.status);
    const bool too_long = a.retry_after && *a.retry_after > options_.retry.max_wait_seconds;
    if (!retryable || k >= options_.retry.max_retries || too_long) {
      std::string why = what;
      if (retryable && too_long) {
        why += " (the server asks to retry after " + std::to_string(*a.retry_after) +
               " s, longer than " + std::to_string(options_.retry.max_wait_seconds) + " s)";
      } else if (retryable) {
        why += " (after " + std::to_string(k + 1) + " attempts)";
      }
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.failed;
      throw ApiCallError(where + ": " + why, a.status);
    }
    double wait = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      wait = options_.retry.delay(k, a.retry_after, rng_);
      ++stats_.retries;
      stats_.wait_seconds += wait;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  }
}

std::vector<json> OpenAiClient::call_all(const std::string& path, const std::vector<json>& bodies,
                                         const std::function<void(size_t)>& progress) {
  std::vector<json> out(bodies.size());
  std::atomic<size_t> next{0}, done{0};
  std::atomic<bool> stop{false};
  std::mutex failure_mutex;
  std::exception_ptr failure;
  size_t failed_index = 0;
  std::mutex progress_mutex;
  auto worker = [&] {
    while (!stop) {
      const size_t i = next++;
      if (i >= bodies.size()) return;
      try {
        out[i] = call(path, bodies[i]);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure || i < failed_index) {
          failure = std::current_exception();
          failed_index = i;
        }
        stop = true;
        return;
      }
      const size_t n = ++done;
      if (progress) {
        std::lock_guard<std::mutex> lock(progress_mutex);
        progress(n);
      }
    }
  };
  const size_t threads = std::min<size_t>(static_cast<size_t>(options_.concurrency), bodies.size());
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  if (threads > 0) worker();
  for (std::thread& t : pool) t.join();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const ApiCallError& e) {
      throw ApiCallError("request " + std::to_string(failed_index) + ": " + e.what(), e.status(),
                         failed_index);
    }
  }
  return out;
}

CallStats OpenAiClient::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace ptune::client
