// `ptune serve`'s HTTP side (contract in ptune/serve/server.h): construction, the routes,
// authorization, models, run-time adapters, classify, bind/listen/stop. Completions and chat are
// in generation.cpp.
#include <algorithm>
#include <regex>
#include <thread>

#include "ptune/eval/evaluator.h"
#include "ptune/tasks/prompt.h"
#include "ptune/util/errors.h"
#include "serve/server_impl.h"

namespace ptune::serve {

namespace {

// HTTP workers beyond the engine's running and queued requests (see routes()).
constexpr size_t kSpareHttpWorkers = 256;

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
