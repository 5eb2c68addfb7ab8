// The inside of `ptune serve`'s HTTP side (include/ptune/serve/server.h), shared by its files:
//   server.cpp      construction, routes, authorization, models, adapters, classify, lifecycle
//   generation.cpp  completions and chat: request -> engine sequence -> one JSON body or SSE
#pragma once

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ptune/generate/chat_template.h"
#include "ptune/serve/openai_api.h"
#include "ptune/serve/server.h"
#include "serve/adapter_set.h"
#include "serve/metrics.h"

namespace ptune::serve {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// httplib's server with a deeper accept queue: it listens with a backlog of 5, so a burst of
// clients connecting at once (a retry wave after 429s) overflows it and some connections are
// reset. listen() again on the bound socket sets a larger backlog (Linux allows it).
class HttpServer : public httplib::Server {
 public:
  void widen_backlog(int backlog) { ::listen(svr_sock_, backlog); }
};
inline constexpr int kListenBacklog = 1024;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Engine events for one request, handed from the engine thread to the HTTP worker.
struct Channel {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<SequenceEvent> events;

  void push(const SequenceEvent& e) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      events.push_back(e);
    }
    ready.notify_all();
  }
  // Everything queued, waiting until there is something or `deadline` passes.
  std::deque<SequenceEvent> take(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mutex);
    ready.wait_until(lock, deadline, [this] { return !events.empty(); });
    std::deque<SequenceEvent> out;
    out.swap(events);
    return out;
  }
};

// A request ready for the engine.
struct Prepared {
  bool chat = false;
  std::string model;  // as the client named it
  std::vector<int32_t> ids;
  std::shared_ptr<const ServedAdapter> adapter;  // null: the base model
  SamplingRequest sampling;
  std::string echo;  // completions with echo: the prompt text
  // Completions: ids[prompt_from..] are the client's prompt (before them: BOS, a discrete
  // adapter's text); with echo and logprobs, their log-probs come back.
  size_t prompt_from = 0;
};

inline void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(to_json_text(body) + "\n", "application/json");
}

inline void send_error(httplib::Response& res, const ApiError& e) {
  if (e.status() == 429 || e.status() == 503) res.set_header("Retry-After", "1");
  send_json(res, e.status(), e.body());
}

struct Server::Impl {
  const Model& model;
  const Tokenizer& tok;
  ServerOptions opt;
  AdapterSet adapters;
  std::map<std::string, ServedTask> tasks;
  std::mutex classify_mutex;  // one classification at a time beside the engine's decoding
  std::optional<ChatTemplate> chat_template;
  std::string chat_template_error;
  Engine engine;
  HttpServer http;
  Metrics metrics;
  std::atomic<bool> draining{false};
  std::atomic<uint64_t> next_id{0};
  std::once_flag stopped;
  std::mutex listen_mutex;      // orders listen() against stop()
  bool listen_entered = false;  // guarded by listen_mutex
  int64_t created = std::time(nullptr);

  Impl(const Model& m, const Tokenizer& t, std::vector<ServedAdapter> list, ServerOptions o,
       std::vector<ServedTask> task_list)
      : model(m),
        tok(t),
        opt(std::move(o)),
        adapters(opt.model_id, opt.adapter_memory_bytes),
        engine(m, t, opt.engine) {
    for (ServedAdapter& a : list) adapters.add(std::move(a));
    for (ServedTask& task : task_list) {
      if (task.model_id != opt.model_id && !adapters.find(task.model_id)) {
        throw std::invalid_argument("a task for '" + task.model_id +
                                    "', which is neither the model nor an adapter");
      }
      if (tasks.count(task.model_id)) {
        throw std::invalid_argument("two tasks for '" + task.model_id + "'");
      }
      std::string id = task.model_id;
      tasks.emplace(std::move(id), std::move(task));
    }
    try {
      chat_template.emplace(tok.spec().chat_template);
    } catch (const std::invalid_argument& e) {
      chat_template_error = e.what();
    }
    routes();
  }

  void routes();
  void authorize(const httplib::Request& req) const;
  std::shared_ptr<const ServedAdapter> adapter_for(const std::string& model_id) const;
  Prepared prepare_completion(const std::string& body) const;
  Prepared prepare_chat(const std::string& body) const;
  SequenceRequest sequence_for(const Prepared& p) const;
  void generate(const httplib::Request& req, httplib::Response& res, bool chat);
  void respond_whole(const Prepared& p, httplib::Response& res, std::shared_ptr<Channel> ch,
                     std::shared_ptr<std::atomic<bool>> cancelled, Clock::time_point t0);
  void respond_stream(const Prepared& p, httplib::Response& res, std::shared_ptr<Channel> ch,
                      std::shared_ptr<std::atomic<bool>> cancelled, Clock::time_point t0);
  void classify(const httplib::Request& req, httplib::Response& res);
  void add_adapter(const httplib::Request& req, httplib::Response& res);
  void remove_adapter(const httplib::Request& req, httplib::Response& res);
  json model_entry(const std::string& id, const ServedAdapter* adapter) const;
  json models_body() const;
  // When a request that arrived at t0 times out, and the error it then gets.
  Clock::time_point deadline_of(Clock::time_point t0) const {
    return t0 + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(opt.request_timeout_seconds));
  }
  ApiError timeout_error() const {
    return ApiError(504, "timeout",
                    "the request took longer than the server's limit of " +
                        std::to_string(opt.request_timeout_seconds) + " s");
  }
  std::string new_id(bool chat) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s-%016llx", chat ? "chatcmpl" : "cmpl",
                  static_cast<unsigned long long>(++next_id));
    return buf;
  }
};

}  // namespace ptune::serve
