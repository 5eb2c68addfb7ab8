// The API client against a scripted loopback server: retries (Retry-After honoured, backoff
// without it, no retry of a 400, a Retry-After too long to wait), timeouts, the response cache,
// token accounting, the API key's header, bounded concurrency with results in order.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "ptune/client/openai_client.h"

namespace ptune::client {
namespace {

using nlohmann::json;

// A loopback server whose /v1/completions answers with `handler`.
class ScriptedServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  explicit ScriptedServer(Handler handler) {
    server_.Post("/v1/completions",
                 [this, handler](const httplib::Request& q, httplib::Response& r) {
                   ++calls;
                   const int now = ++in_flight;
                   int seen = max_in_flight.load();
                   while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
                   }
                   handler(q, r);
                   --in_flight;
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ScriptedServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::atomic<int> calls{0}, in_flight{0}, max_in_flight{0};

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

void ok(httplib::Response& r,
        const json& body = {{"usage", {{"prompt_tokens", 3}, {"completion_tokens", 2}}}}) {
  r.status = 200;
  r.set_content(body.dump(), "application/json");
}

void fail(httplib::Response& r, int status, const std::string& message) {
  r.status = status;
  r.set_content(json{{"error", {{"message", message}}}}.dump(), "application/json");
}

ClientOptions fast(const std::string& url) {
  ClientOptions o;
  o.endpoint = url;
  o.retry.base_seconds = 0.01;
  o.retry.cap_seconds = 0.05;
  o.timeout_seconds = 5;
  return o;
}

TEST(EndpointTest, SplitsOriginAndVersionPath) {
  EXPECT_EQ(parse_endpoint("http://127.0.0.1:8080").base_path, "/v1");
  EXPECT_EQ(parse_endpoint("http://127.0.0.1:8080/").base_path, "/v1");
  EXPECT_EQ(parse_endpoint("https://api.openai.com/v1").origin, "https://api.openai.com");
  EXPECT_EQ(parse_endpoint("https://host/openai/v1/").base_path, "/openai/v1");
  for (const char* bad : {"127.0.0.1:8080", "ftp://host/v1", "http://", "http://h/v1?x=1"}) {
    EXPECT_THROW(parse_endpoint(bad), std::invalid_argument) << bad;
  }
}

TEST(RetryTest, RetryAfterIsReadAsSecondsMillisecondsOrADate) {
  EXPECT_DOUBLE_EQ(*parse_retry_after("3", "", 0), 3.0);
  EXPECT_DOUBLE_EQ(*parse_retry_after("1.5", "", 0), 1.5);
  EXPECT_DOUBLE_EQ(*parse_retry_after("3", "250", 0), 0.25);  // retry-after-ms wins
  // 2026-10-21 07:28:00 UTC = 1792567680.
  EXPECT_DOUBLE_EQ(*parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", "", 1792567670), 10.0);
  EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", "", 1792567690));  // past
  for (const char* bad : {"", "-1", "soon", "3s", "nan", "1e400"}) {
    EXPECT_FALSE(parse_retry_after(bad, "", 0)) << bad;
  }
}

TEST(RetryTest, BackoffIsJitteredUnderAnExponentialCeiling) {
  RetryPolicy p;
  p.base_seconds = 1;
  p.cap_seconds = 8;
  std::mt19937_64 rng(1);
  for (int k = 0; k < 6; ++k) {
    double most = 0;
    for (int i = 0; i < 200; ++i) {
      const double d = p.delay(k, std::nullopt, rng);
      EXPECT_GE(d, 0);
      EXPECT_LE(d, std::min(8.0, std::ldexp(1.0, k)));
      most = std::max(most, d);
    }
    EXPECT_GT(most, 0.5 * std::min(8.0, std::ldexp(1.0, k)));  // spread over the range
  }
  const double d = p.delay(0, 2.0, rng);
  EXPECT_GE(d, 2.0);
  EXPECT_LE(d, 2.2);
  EXPECT_TRUE(p.retryable_status(429));
  EXPECT_TRUE(p.retryable_status(503));
  EXPECT_FALSE(p.retryable_status(400));
  EXPECT_FALSE(p.retryable_status(401));
}

TEST(OpenAiClientTest, RetriesA429AfterTheServersRetryAfter) {
  std::atomic<int> n{0};
  ScriptedServer s([&](const httplib::Request&, httplib::Response& r) {
    if (n++ < 2) {
      r.set_header("Retry-After", "0.2");
      fail(r, 429, "queue full");
    } else {
      ok(r);
    }
  });
  OpenAiClient c(fast(s.url()));
  const auto t0 = std::chrono::steady_clock::now();
  const json j = c.call("/completions", {{"model", "m"}});
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(s.calls, 3);
  EXPECT_GE(took, 0.4);  // two waits of Retry-After, not the 10 ms backoff
  const CallStats st = c.stats();
  EXPECT_EQ(st.attempts, 3);
  EXPECT_EQ(st.retries, 2);
  EXPECT_EQ(st.calls, 1);
  EXPECT_EQ(st.prompt_tokens, 3);
  EXPECT_EQ(st.completion_tokens, 2);
}

TEST(OpenAiClientTest, RetriesServerErrorsWithBackoffThenGivesUpNamingThem) {
  ScriptedServer s([&](const httplib::Request&, httplib::Response& r) { fail(r, 503, "busy"); });
  ClientOptions o = fast(s.url());
  o.retry.max_retries = 3;
  OpenAiClient c(o);
  try {
    c.call("/completions", {{"model", "m"}});
    FAIL() << "no error";
  } catch (const ApiCallError& e) {
    EXPECT_EQ(e.status(), 503);
    const std::string what = e.what();
    EXPECT_NE(what.find("POST /v1/completions"), std::string::npos) << what;
    EXPECT_NE(what.find("HTTP 503: busy"), std::string::npos) << what;
    EXPECT_NE(what.find("after 4 attempts"), std::string::npos) << what;
  }
  EXPECT_EQ(s.calls, 4);
  EXPECT_EQ(c.stats().failed, 1);
}

TEST(OpenAiClientTest, ABadRequestIsNotRetried) {
  ScriptedServer s([&](const httplib::Request&, httplib::Response& r) {
    fail(r, 400, "max_tokens: must be at least 1");
  });
  OpenAiClient c(fast(s.url()));
  try {
    c.call("/completions", {{"model", "m"}});
    FAIL() << "no error";
  } catch (const ApiCallError& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_NE(std::string(e.what()).find("max_tokens: must be at least 1"), std::string::npos);
  }
  EXPECT_EQ(s.calls, 1);
}

TEST(OpenAiClientTest, ARetryAfterLongerThanTheLimitFailsAtOnce) {
  ScriptedServer s([&](const httplib::Request&, httplib::Response& r) {
    r.set_header("Retry-After", "3600");
    fail(r, 429, "quota");
  });
  OpenAiClient c(fast(s.url()));
  try {
    c.call("/completions", {{"model", "m"}});
    FAIL() << "no error";
  } catch (const ApiCallError& e) {
    EXPECT_NE(std::string(e.what()).find("retry after 3600"), std::string::npos) << e.what();
  }
  EXPECT_EQ(s.calls, 1);
}

TEST(OpenAiClientTest, TimeoutsAndRefusedConnectionsAreRetriedThenReported) {
  ScriptedServer s([&](const httplib::Request&, httplib::Response& r) {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    ok(r);
  });
  ClientOptions o = fast(s.url());
  o.timeout_seconds = 0.2;
  o.retry.max_retries = 1;
  OpenAiClient slow(o);
  try {
    slow.call("/completions", {{"model", "m"}});
    FAIL() << "no error";
  } catch (const ApiCallError& e) {
    EXPECT_EQ(e.status(), 0);
    EXPECT_NE(std::string(e.what()).find("after 2 attempts"), std::string::npos) << e.what();
  }
  // A port nothing listens on.
  int port = 0;
  {
    ScriptedServer closed([](const httplib::Request&, httplib::Response&) {});
    port = std::stoi(closed.url().substr(closed.url().rfind(':') + 1));
  }
  ClientOptions gone = fast("http://127.0.0.1:" + std::to_string(port));
  gone.retry.max_retries = 2;
  OpenAiClient c(gone);
  EXPECT_THROW(c.call("/completions", {{"model", "m"}}), ApiCallError);
  EXPECT_EQ(c.stats().attempts, 3);
}

TEST(OpenAiClientTest, TheCacheAnswersRepeatedRequestsAcrossClients) {
  ScriptedServer s([&](const httplib::Request& q, httplib::Response& r) {
    ok(r, {{"echo", json::parse(q.body)},
           {"usage", {{"prompt_tokens", 5}, {"completion_tokens", 1}}}});
  });
  const std::string path = ::testing::TempDir() + "/responses.sqlite";
  std::filesystem::remove(path);
  ClientOptions o = fast(s.url());
  o.cache_path = path;
  {
    OpenAiClient c(o);
    EXPECT_EQ(c.call("/completions", {{"model", "m"}, {"prompt", "a"}})["echo"]["prompt"], "a");
    EXPECT_EQ(c.call("/completions", {{"prompt", "a"}, {"model", "m"}})["echo"]["prompt"], "a");
    EXPECT_EQ(s.calls, 1);  // key order does not matter
    c.call("/completions", {{"model", "m"}, {"prompt", "b"}});
    EXPECT_EQ(s.calls, 2);
    EXPECT_EQ(c.stats().cache_hits, 1);
    EXPECT_EQ(c.stats().cached_prompt_tokens, 5);
    EXPECT_EQ(c.stats().prompt_tokens, 10);
  }
  OpenAiClient again(o);
  again.call("/completions", {{"model", "m"}, {"prompt", "b"}});
  EXPECT_EQ(s.calls, 2);
  EXPECT_EQ(again.stats().cache_hits, 1);

  const std::string not_cache = ::testing::TempDir() + "/not_a_cache.sqlite";
  std::ofstream(not_cache) << "hello, this is text";
  ClientOptions bad = o;
  bad.cache_path = not_cache;
  try {
    OpenAiClient c(bad);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(not_cache), std::string::npos) << e.what();
  }
}

TEST(OpenAiClientTest, TheApiKeyGoesInTheHeaderOnly) {
  std::string seen;
  ScriptedServer s([&](const httplib::Request& q, httplib::Response& r) {
    seen = q.get_header_value("Authorization");
    fail(r, 401, "bad key");
  });
  setenv("PTUNE_TEST_KEY", "sk-secret-123", 1);
  ClientOptions o = fast(s.url());
  o.api_key_env = "PTUNE_TEST_KEY";
  OpenAiClient c(o);
  try {
    c.call("/completions", {{"model", "m"}});
    FAIL() << "no error";
  } catch (const ApiCallError& e) {
    EXPECT_EQ(std::string(e.what()).find("sk-secret"), std::string::npos) << e.what();
  }
  EXPECT_EQ(seen, "Bearer sk-secret-123");
  setenv("PTUNE_TEST_KEY", "", 1);
  EXPECT_THROW(OpenAiClient{o}, std::invalid_argument);
  unsetenv("PTUNE_TEST_KEY");
}

TEST(OpenAiClientTest, CallAllKeepsOrderAndBoundsConcurrency) {
  ScriptedServer s([&](const httplib::Request& q, httplib::Response& r) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    ok(r, {{"i", json::parse(q.body)["i"]}});
  });
  ClientOptions o = fast(s.url());
  o.concurrency = 4;
  OpenAiClient c(o);
  std::vector<json> bodies;
  for (int i = 0; i < 24; ++i) bodies.push_back({{"i", i}});
  size_t last = 0;
  const auto out = c.call_all("/completions", bodies, [&](size_t done) { last = done; });
  ASSERT_EQ(out.size(), 24u);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(out[i]["i"], i);
  EXPECT_EQ(last, 24u);
  EXPECT_LE(s.max_in_flight, 4);
  EXPECT_GE(s.max_in_flight, 2);
}

TEST(OpenAiClientTest, CallAllReportsTheFailingRequest) {
  ScriptedServer s([&](const httplib::Request& q, httplib::Response& r) {
    if (json::parse(q.body)["i"] == 5) {
      fail(r, 400, "no");
    } else {
      ok(r);
    }
  });
  ClientOptions o = fast(s.url());
  o.concurrency = 2;
  OpenAiClient c(o);
  std::vector<json> bodies;
  for (int i = 0; i < 10; ++i) bodies.push_back({{"i", i}});
  try {
    c.call_all("/completions", bodies);
    FAIL() << "no error";
  } catch (const ApiCallError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("request 5: ", 0), 0u) << e.what();
  }
}

}  // namespace
}  // namespace ptune::client
