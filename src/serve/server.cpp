// The HTTP side of `ptune serve` (contract in ptune/serve/server.h). httplib runs each request on
// a worker thread; a generation request turns into one engine sequence whose events reach the
// worker through a Channel, which the worker turns into one JSON body or an SSE stream.
#include "ptune/serve/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <iostream>
#include <optional>
#include <random>
#include <regex>
#include <thread>

#include "ptune/eval/evaluator.h"
#include "ptune/generate/chat_template.h"
#include "ptune/serve/openai_api.h"
#include "ptune/tasks/prompt.h"
#include "ptune/util/errors.h"
#include "serve/adapter_set.h"
#include "serve/metrics.h"

namespace ptune::serve {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// httplib's server with a deeper accept queue: it listens with a backlog of 5, so a burst of
// clients connecting at once (a retry wave after 429s) overflows it and some connections are
// reset. listen() again on the bound socket sets a larger backlog (Linux allows it).
class HttpServer : public httplib::Server {
 public:
  void widen_backlog(int backlog) { ::listen(svr_sock_, backlog); }
};
constexpr int kListenBacklog = 1024;

// HTTP workers beyond the engine's running and queued requests (see routes()).
constexpr size_t kSpareHttpWorkers = 256;

double seconds_since(Clock::time_point t0) {
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
};

bool valid_model_id(const std::string& name) {
  static const std::regex id("[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}");
  return std::regex_match(name, id);
}

// Equal strings in time that does not depend on where they differ.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i % (b.empty() ? 1 : b.size())];
  return diff == 0 && !b.empty();
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(to_json_text(body) + "\n", "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) {
  if (e.status() == 429 || e.status() == 503) res.set_header("Retry-After", "1");
  send_json(res, e.status(), e.body());
}

TokenLogprob to_logprob(const Tokenizer& tok, const TokenDecoder::Step& s) {
  TokenLogprob t;
  t.token = tok.token_to_bytes(s.token);
  t.logprob = s.logprob;
  for (const auto& [id, lp] : s.top) t.top.emplace_back(tok.token_to_bytes(id), lp);
  return t;
}

}  // namespace

ServedAdapter load_served_adapter(const std::string& name, const std::string& path,
                                  const Model& model) {
  if (!valid_model_id(name)) {
    throw std::invalid_argument("adapter name '" + util::clipped(name) +
                                "' is not a model id (letters, digits and ._:/- , at most 128)");
  }
  ServedAdapter a;
  a.name = name;
  a.artifact = methods::load_prompt_artifact(path, model);
  (void)a.artifact.place_in("");  // a slot prompt needs a task template: refused now, not later
  if (a.artifact.continuous) {
    torch::InferenceMode inference;
    a.state = std::make_shared<const PastKV>(a.artifact.state(model));
  }
  return a;
}

ServedTask load_served_task(const std::string& model_id, const std::string& path) {
  ServedTask t;
  t.model_id = model_id;
  t.task = tasks::load_task(path);
  if (t.task.type != tasks::TaskType::Classification) {
    throw std::invalid_argument(path + ": /v1/classify serves classification tasks; this one is " +
                                "not");
  }
  t.data = tasks::load_task_data(t.task);
  return t;
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

void Server::Impl::authorize(const httplib::Request& req) const {
  if (opt.api_key.empty()) return;
  const std::string header = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (header.rfind(prefix, 0) != 0 || !same_secret(header.substr(prefix.size()), opt.api_key)) {
    throw ApiError(401, "invalid_request_error",
                   "missing or wrong API key (send \"Authorization: Bearer KEY\")", "",
                   "invalid_api_key");
  }
}

std::shared_ptr<const ServedAdapter> Server::Impl::adapter_for(const std::string& model_id) const {
  if (model_id == opt.model_id) return nullptr;
  auto a = adapters.find(model_id);
  if (!a) {
    throw ApiError(404, "invalid_request_error",
                   "the model '" + util::clipped(model_id) +
                       "' does not exist (GET /v1/models lists what is served)",
                   "model", "model_not_found");
  }
  return a;
}

Prepared Server::Impl::prepare_completion(const std::string& body) const {
  const CompletionRequest r = parse_completion_request(body);
  Prepared p;
  p.model = r.model;
  p.adapter = adapter_for(r.model);
  p.sampling = r.sampling;
  const std::string before = p.adapter ? p.adapter->artifact.place_in("") : "";
  const std::string text = before.empty() ? r.prompt : before + "\n\n" + r.prompt;
  p.ids = tok.encode(text);
  if (r.echo) p.echo = r.prompt;
  return p;
}

Prepared Server::Impl::prepare_chat(const std::string& body) const {
  const ChatRequest r = parse_chat_request(body);
  if (!chat_template) {
    throw ApiError(400, "invalid_request_error",
                   "this model has no chat template ptune can apply (" + chat_template_error +
                       "); use /v1/completions",
                   "messages");
  }
  Prepared p;
  p.chat = true;
  p.model = r.model;
  p.adapter = adapter_for(r.model);
  p.sampling = r.sampling;
  std::vector<ChatMessage> messages;
  for (const ChatRequestMessage& m : r.messages) messages.push_back({m.role, m.content});
  if (p.adapter && p.adapter->artifact.discrete) {
    // A discrete prompt goes into the system message, as `ptune chat --adapter` puts it.
    if (messages.front().role == "system") {
      messages.front().content = p.adapter->artifact.place_in(messages.front().content);
    } else {
      messages.insert(messages.begin(), {"system", p.adapter->artifact.place_in("")});
    }
  }
  p.ids = tok.encode(chat_template->render_marked(messages, true));
  return p;
}

SequenceRequest Server::Impl::sequence_for(const Prepared& p) const {
  SequenceRequest s;
  s.prompt = p.ids;
  if (p.adapter) s.prefix = p.adapter->state;
  const int64_t n_ctx = model.config().n_ctx_train;
  const int64_t used = static_cast<int64_t>(p.ids.size()) + (s.prefix ? s.prefix->length() : 0);
  if (n_ctx > 0 && used >= n_ctx) {
    throw invalid_request(p.chat ? "messages" : "prompt",
                          context_error(p.ids.size(), used - p.ids.size(), n_ctx));
  }
  const int64_t room = n_ctx > 0 ? n_ctx - used : kMaxRequestTokens;
  if (p.sampling.max_tokens && *p.sampling.max_tokens > room) {
    throw invalid_request("max_tokens", "this model's context length is " + std::to_string(n_ctx) +
                                            " tokens; the request uses " + std::to_string(used) +
                                            " and asks for " +
                                            std::to_string(*p.sampling.max_tokens) +
                                            " more (at most " + std::to_string(room) + ")");
  }
  s.options.max_tokens = static_cast<int>(p.sampling.max_tokens.value_or(room));
  s.options.sampling.temperature = static_cast<float>(p.sampling.temperature);
  s.options.sampling.top_p = static_cast<float>(p.sampling.top_p);
  s.options.sampling.seed = p.sampling.seed ? *p.sampling.seed : std::random_device{}();
  s.options.stop = p.sampling.stop;
  s.top_logprobs = p.sampling.top_logprobs;
  return s;
}

void Server::Impl::generate(const httplib::Request& req, httplib::Response& res, bool chat) {
  const Clock::time_point t0 = Clock::now();
  authorize(req);
  if (draining) throw ApiError(503, "server_error", "the server is shutting down");
  const Prepared p = chat ? prepare_chat(req.body) : prepare_completion(req.body);
  SequenceRequest s = sequence_for(p);
  auto ch = std::make_shared<Channel>();
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  s.cancelled = cancelled;
  s.on_event = [ch](const SequenceEvent& e) { ch->push(e); };
  try {
    engine.submit(std::move(s));
  } catch (const QueueFullError& e) {
    throw ApiError(429, "rate_limit_error", std::string(e.what()) + "; retry later");
  } catch (const std::invalid_argument& e) {
    throw invalid_request(chat ? "messages" : "prompt", e.what());
  } catch (const std::runtime_error& e) {
    throw ApiError(503, "server_error", e.what());
  }
  if (p.sampling.stream) {
    respond_stream(p, res, ch, cancelled, t0);
  } else {
    respond_whole(p, res, ch, cancelled, t0);
  }
}

void Server::Impl::respond_whole(const Prepared& p, httplib::Response& res,
                                 std::shared_ptr<Channel> ch,
                                 std::shared_ptr<std::atomic<bool>> cancelled,
                                 Clock::time_point t0) {
  const Clock::time_point deadline = deadline_of(t0);
  Choice choice;
  choice.with_logprobs = p.sampling.top_logprobs >= 0;
  Usage usage{static_cast<int64_t>(p.ids.size()), 0};
  bool first = true;
  while (true) {
    if (Clock::now() >= deadline) {
      cancelled->store(true);
      throw timeout_error();
    }
    for (const SequenceEvent& e : ch->take(deadline)) {
      if (!e.error.empty()) throw ApiError(500, "server_error", e.error);
      if (first) metrics.first_token(seconds_since(t0));
      first = false;
      choice.text += e.step.text;
      if (e.final) {
        choice.finish_reason = e.finish_reason;
        const std::string id = new_id(p.chat);
        if (!p.echo.empty()) choice.text = p.echo + choice.text;
        send_json(res, 200,
                  p.chat ? chat_body(id, std::time(nullptr), p.model, choice, usage)
                         : completion_body(id, std::time(nullptr), p.model, choice, usage));
        return;
      }
      ++usage.completion_tokens;
      if (choice.with_logprobs) {
        choice.logprobs.push_back(to_logprob(tok, e.step));
      }
    }
  }
}

void Server::Impl::respond_stream(const Prepared& p, httplib::Response& res,
                                  std::shared_ptr<Channel> ch,
                                  std::shared_ptr<std::atomic<bool>> cancelled,
                                  Clock::time_point t0) {
  struct State {
    std::string id;
    int64_t created = std::time(nullptr);
    bool started = false, ended = false;
    Usage usage;
  };
  auto st = std::make_shared<State>();
  st->id = new_id(p.chat);
  st->usage.prompt_tokens = static_cast<int64_t>(p.ids.size());
  const Clock::time_point deadline = deadline_of(t0);
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, p, ch, cancelled, st, deadline, t0](size_t, httplib::DataSink& sink) {
        auto write = [&](const std::string& s) {
          if (!sink.write(s.data(), s.size())) {
            cancelled->store(true);  // the client went away
            return false;
          }
          return true;
        };
        if (!st->started) {
          st->started = true;
          const std::string opening =
              p.chat
                  ? sse_event(chat_chunk(st->id, st->created, p.model, "assistant", "", ""))
                  : (p.echo.empty()
                         ? std::string()
                         : sse_event(completion_chunk(st->id, st->created, p.model, p.echo, "")));
          if (!opening.empty() && !write(opening)) return false;
        }
        if (Clock::now() >= deadline) {
          cancelled->store(true);
          write(sse_event(timeout_error().body()));
          write(kSseDone);
          sink.done();
          return true;
        }
        for (const SequenceEvent& e :
             ch->take(std::min(deadline, Clock::now() + std::chrono::seconds(1)))) {
          if (!e.error.empty()) {
            write(sse_event(ApiError(500, "server_error", e.error).body()));
            write(kSseDone);
            sink.done();
            return true;
          }
          if (st->usage.completion_tokens == 0 && !e.final) metrics.first_token(seconds_since(t0));
          std::vector<TokenLogprob> lps;
          const bool with_lps = p.sampling.top_logprobs >= 0 && !e.final;
          if (with_lps) lps = {to_logprob(tok, e.step)};
          if (!e.final) ++st->usage.completion_tokens;
          if (!e.step.text.empty() || with_lps || e.final) {
            const std::string& reason = e.final ? e.finish_reason : std::string();
            const json chunk = p.chat ? chat_chunk(st->id, st->created, p.model, std::nullopt,
                                                   e.step.text, reason, with_lps ? &lps : nullptr)
                                      : completion_chunk(st->id, st->created, p.model, e.step.text,
                                                         reason, with_lps ? &lps : nullptr);
            if (!write(sse_event(chunk))) return false;
          }
          if (e.final) {
            if (p.sampling.include_usage) {
              write(sse_event(usage_chunk(st->id, st->created, p.model, p.chat, st->usage)));
            }
            write(kSseDone);
            sink.done();
            st->ended = true;
            return true;
          }
        }
        return true;
      },
      [cancelled, st](bool success) {
        if (!success || !st->ended) cancelled->store(true);
      });
}

void Server::Impl::classify(const httplib::Request& req, httplib::Response& res) {
  authorize(req);
  if (draining) throw ApiError(503, "server_error", "the server is shutting down");
  const ClassifyRequest r = parse_classify_request(req.body);
  const std::shared_ptr<const ServedAdapter> adapter = adapter_for(r.model);
  auto it = tasks.find(r.model);
  if (it == tasks.end()) {
    throw invalid_request("model", "no task is served for '" + util::clipped(r.model) +
                                       "' (start the server with --task " + util::clipped(r.model) +
                                       "=TASK.json)");
  }
  const ServedTask& served = it->second;
  // The task's query fields: a plain text fills its only one.
  const tasks::PromptBuilder prompts(served.task);
  std::vector<std::string> fields = prompts.query_template().fields();
  fields.erase(std::remove(fields.begin(), fields.end(), prompts.label_field()), fields.end());
  std::vector<tasks::Example> inputs;
  for (size_t i = 0; i < r.inputs.size(); ++i) {
    tasks::Example ex;
    ex.source = "input[" + std::to_string(i) + "]";
    for (const auto& [key, value] : r.inputs[i]) {
      if (!key.empty()) {
        ex.fields[key] = value;
      } else if (fields.size() == 1) {
        ex.fields[fields[0]] = value;
      } else {
        std::string names;
        for (const auto& f : fields) names += (names.empty() ? "" : ", ") + f;
        throw invalid_request("input", "this task's template reads several fields (" + names +
                                           "); give each input as an object of them");
      }
    }
    for (const std::string& f : fields) {
      if (!ex.has(f)) throw invalid_request(ex.source, "missing the field '" + f + "'");
    }
    inputs.push_back(std::move(ex));
  }
  eval::EvalOptions o;
  if (adapter) {
    o.scorer.base = adapter->state.get();
    if (adapter->artifact.discrete) o.discrete_prompt = &*adapter->artifact.discrete;
  }
  std::vector<eval::LabelDistribution> out;
  {
    torch::InferenceMode inference;
    std::lock_guard<std::mutex> lock(classify_mutex);
    try {
      out = eval::classify(served.task, served.data, model, tok, std::move(inputs), o);
    } catch (const std::invalid_argument& e) {
      throw invalid_request("input", e.what());
    }
  }
  json data = json::array();
  for (size_t i = 0; i < out.size(); ++i) {
    json labels = json::array();
    for (const auto& [label, p] : out[i].labels) {
      labels.push_back({{"label", label}, {"probability", p}});
    }
    data.push_back({{"object", "classification"},
                    {"index", i},
                    {"label", out[i].labels.empty() ? "" : out[i].labels[0].first},
                    {"labels", labels}});
  }
  send_json(res, 200, {{"object", "list"}, {"model", r.model}, {"data", data}});
}

json Server::Impl::model_entry(const std::string& id, const ServedAdapter* a) const {
  json m = {{"id", id}, {"object", "model"}, {"created", created}, {"owned_by", "ptune"}};
  if (a) {
    m["parent"] = opt.model_id;
    m["ptune"] = {
        {"kind", a->artifact.describe()}, {"path", a->artifact.path}, {"bytes", state_bytes(*a)}};
  } else {
    m["ptune"] = {{"kind", "base model"}};
  }
  if (auto it = tasks.find(id); it != tasks.end()) m["ptune"]["task"] = it->second.task.name;
  return m;
}

json Server::Impl::models_body() const {
  json data = json::array({model_entry(opt.model_id, nullptr)});
  for (const auto& a : adapters.list()) data.push_back(model_entry(a->name, a.get()));
  return {{"object", "list"}, {"data", data}};
}

// POST /v1/adapters {"name", "path"}: the path is read on the server's machine, so this route
// is as open as the server (loopback by default; --api-key-env to guard it).
void Server::Impl::add_adapter(const httplib::Request& req, httplib::Response& res) {
  authorize(req);
  const AdapterRequest r = parse_adapter_request(req.body);
  ServedAdapter a;
  try {
    torch::InferenceMode inference;
    a = load_served_adapter(r.name, r.path, model);
  } catch (const std::exception& e) {
    throw invalid_request("path", std::string("cannot load the adapter: ") + e.what());
  }
  const std::string name = a.name;
  try {
    adapters.add(std::move(a));
  } catch (const std::invalid_argument& e) {
    throw ApiError(409, "invalid_request_error", e.what(), "name");
  }
  send_json(res, 201, model_entry(name, adapters.find(name).get()));
}

// DELETE /v1/adapters/NAME: requests already running with it finish with it.
void Server::Impl::remove_adapter(const httplib::Request& req, httplib::Response& res) {
  authorize(req);
  const std::string name = req.matches.size() > 1 ? req.matches[1].str() : "";
  if (tasks.count(name)) {
    throw ApiError(409, "invalid_request_error",
                   "adapter '" + util::clipped(name) + "' has a task (--task); it stays", "name");
  }
  if (!adapters.remove(name)) {
    throw ApiError(404, "invalid_request_error",
                   "no adapter '" + util::clipped(name) + "' is served", "name", "model_not_found");
  }
  send_json(res, 200, {{"id", name}, {"object", "model"}, {"deleted", true}});
}

void Server::Impl::routes() {
  // Each route answers every error in OpenAI's shape and records its status and duration.
  auto wrap = [this](const std::string& route, auto handler) {
    return [this, route, handler](const httplib::Request& req, httplib::Response& res) {
      const Clock::time_point t0 = Clock::now();
      try {
        handler(req, res);
      } catch (const ApiError& e) {
        send_error(res, e);
      } catch (const std::exception& e) {
        send_error(res, ApiError(500, "server_error", e.what()));
      }
      metrics.request(route, res.status, seconds_since(t0));
    };
  };
  http.Get("/health", wrap("/health", [this](const httplib::Request&, httplib::Response& res) {
             if (draining) throw ApiError(503, "server_error", "draining");
             send_json(res, 200, {{"status", "ok"}});
           }));
  http.Get("/metrics", wrap("/metrics", [this](const httplib::Request&, httplib::Response& res) {
             res.set_content(
                 metrics.render(engine.stats(), adapters.list().size(), adapters.bytes()),
                 "text/plain; version=0.0.4");
           }));
  http.Get("/v1/models",
           wrap("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
             authorize(req);
             send_json(res, 200, models_body());
           }));
  http.Post("/v1/completions",
            wrap("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
              generate(req, res, false);
            }));
  http.Post("/v1/chat/completions", wrap("/v1/chat/completions", [this](const httplib::Request& req,
                                                                        httplib::Response& res) {
              generate(req, res, true);
            }));
  http.Post("/v1/classify",
            wrap("/v1/classify", [this](const httplib::Request& req, httplib::Response& res) {
              classify(req, res);
            }));
  http.Post("/v1/adapters",
            wrap("/v1/adapters", [this](const httplib::Request& req, httplib::Response& res) {
              add_adapter(req, res);
            }));
  http.Delete(
      R"(/v1/adapters/([^/]+))",
      wrap("/v1/adapters/NAME", [this](const httplib::Request& req, httplib::Response& res) {
        remove_adapter(req, res);
      }));
  // What httplib answers itself (no such route, a body over the limit, a malformed request)
  // gets OpenAI's error shape too.
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string message =
        res.status == 404   ? "no route " + req.method + " " + util::clipped(req.path, 80)
        : res.status == 413 ? "the request body is larger than the server's limit"
        : res.status == 405 ? "method not allowed"
                            : "bad request";
    send_json(res, res.status, ApiError(res.status, "invalid_request_error", message).body());
  });
  http.set_payload_max_length(opt.max_body_bytes);
  http.set_read_timeout(30, 0);
  http.set_write_timeout(30, 0);
  // Every admitted or queued request holds a worker while it waits; beyond those, workers to
  // spare answer a burst past the queue with its 429 at once, rather than leaving connections
  // unread in httplib's own queue.
  const size_t workers =
      static_cast<size_t>(opt.engine.max_sequences + opt.engine.max_queue) + kSpareHttpWorkers;
  http.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
}

Server::Server(const Model& model, const Tokenizer& tokenizer, std::vector<ServedAdapter> adapters,
               ServerOptions options, std::vector<ServedTask> tasks)
    : impl_(std::make_unique<Impl>(model, tokenizer, std::move(adapters), std::move(options),
                                   std::move(tasks))) {
  if (!valid_model_id(impl_->opt.model_id)) {
    throw std::invalid_argument("model id '" + util::clipped(impl_->opt.model_id) +
                                "' is not valid (letters, digits and ._:/- , at most 128)");
  }
}

Server::~Server() {
  stop();
}

void Server::bind() {
  const ServerOptions& o = impl_->opt;
  if (o.port == 0) {
    port_ = impl_->http.bind_to_any_port(o.host);
    if (port_ < 0) port_ = 0;
  } else if (impl_->http.bind_to_port(o.host, o.port)) {
    port_ = o.port;
  }
  if (port_ <= 0) {
    throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                             " (in use, or not an address of this machine)");
  }
  impl_->http.widen_backlog(kListenBacklog);
}

void Server::listen() {
  {
    std::lock_guard<std::mutex> lock(impl_->listen_mutex);
    if (impl_->draining) return;  // stopped before it began
    impl_->listen_entered = true;
  }
  impl_->http.listen_after_bind();
}

void Server::stop() {
  std::call_once(impl_->stopped, [this] {
    bool entered;
    {
      std::lock_guard<std::mutex> lock(impl_->listen_mutex);
      impl_->draining = true;
      entered = impl_->listen_entered;
    }
    impl_->engine.drain();  // every admitted request finishes; its worker writes the answer
    if (!entered) return;   // listen() will not start
    // httplib's stop() does nothing before its loop runs: wait until it does.
    while (!impl_->http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    impl_->http.stop();  // joins the workers once they are done
  });
}

}  // namespace ptune::serve
