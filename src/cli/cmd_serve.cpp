// ptune serve: the OpenAI-compatible server (serve/server.h) over one model and any number of
// tuned prompts, until SIGTERM or SIGINT, which drain: no new requests, every admitted one ends.
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/common.h"
#include "cli/limits.h"
#include "ptune/serve/server.h"

namespace ptune::cli {

namespace {

struct ServeOptions {
  ModelOptions model;
  std::vector<std::string> adapters;  // NAME=PATH
  std::vector<std::string> tasks;     // MODEL_ID=TASK.json
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string model_id, api_key_env;
  serve::EngineOptions engine;
  size_t max_body_bytes = 8u << 20;
  double request_timeout = 600;
  int64_t adapter_memory_mib = 1024;
};

std::string file_stem(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".gguf") == 0)
    name.resize(name.size() - 5);
  return name;
}

bool loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

// NAME=PATH split at the first '='; throws std::invalid_argument naming `flag` otherwise.
std::pair<std::string, std::string> name_and_path(const std::string& flag,
                                                  const std::string& spec) {
  const size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
    throw std::invalid_argument(flag + " '" + spec + "': expected NAME=PATH");
  }
  return {spec.substr(0, eq), spec.substr(eq + 1)};
}

std::vector<serve::ServedTask> load_tasks(const ServeOptions& o) {
  std::vector<serve::ServedTask> out;
  for (const std::string& spec : o.tasks) {
    const auto [id, path] = name_and_path("--task", spec);
    try {
      out.push_back(serve::load_served_task(id, path));
    } catch (const std::exception& e) {
      throw std::invalid_argument("--task " + id + ": " + e.what());
    }
  }
  return out;
}

std::vector<serve::ServedAdapter> load_adapters(const ServeOptions& o, const Model& model) {
  std::vector<serve::ServedAdapter> out;
  for (const std::string& spec : o.adapters) {
    const auto [name, path] = name_and_path("--adapter", spec);
    try {
      out.push_back(serve::load_served_adapter(name, path, model));
    } catch (const std::exception& e) {
      throw std::invalid_argument("--adapter " + name + ": " + e.what());
    }
  }
  return out;
}

void run_serve(const ServeOptions& o) {
  // Every thread started from here on (the engine's, httplib's, OpenMP's) inherits a mask that
  // blocks SIGTERM and SIGINT; one thread waits for them and drains the server.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up is a failed write, not the end of us

  serve::ServerOptions so;
  so.host = o.host;
  so.port = o.port;
  so.model_id = o.model_id.empty() ? file_stem(o.model.model) : o.model_id;
  so.engine = o.engine;
  so.max_body_bytes = o.max_body_bytes;
  so.request_timeout_seconds = o.request_timeout;
  so.adapter_memory_bytes = o.adapter_memory_mib << 20;
  if (!o.api_key_env.empty()) {
    const char* key = std::getenv(o.api_key_env.c_str());
    if (!key || !*key) {
      throw std::invalid_argument("--api-key-env " + o.api_key_env +
                                  ": that environment variable is not set or empty");
    }
    so.api_key = key;
  }
  if (!loopback(o.host) && so.api_key.empty()) {
    std::cerr << "warning: listening on " << o.host
              << " without an API key; anyone who can reach it can use it (--api-key-env)\n";
  }
  std::vector<serve::ServedTask> tasks = load_tasks(o);  // a bad task file fails before the model
  const Loaded l = load(o.model, /*with_model=*/true);
  std::vector<serve::ServedAdapter> adapters = load_adapters(o, *l.model);
  std::string names;
  for (const auto& a : adapters) names += (names.empty() ? "" : ", ") + a.name;
  serve::Server server(*l.model, *l.tokenizer, std::move(adapters), so, std::move(tasks));
  server.bind();
  std::cerr << "ptune serve: listening on http://" << o.host << ":" << server.port() << "/v1"
            << " (model " << so.model_id << (names.empty() ? "" : "; adapters " + names) << ")"
            << std::endl;
  std::atomic<bool> listen_ended{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (listen_ended) return;  // woken by ourselves
    std::cerr << "ptune serve: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
              << ": draining in-flight requests" << std::endl;
    server.stop();
  });
  server.listen();
  listen_ended = true;
  server.stop();
  pthread_kill(waiter.native_handle(), SIGTERM);  // ends the waiter if no signal came
  waiter.join();
  std::cerr << "ptune serve: stopped" << std::endl;
}

}  // namespace

void register_serve(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "serve", "Serve the model and tuned prompts behind an OpenAI-compatible HTTP API");
  auto opts = std::make_shared<ServeOptions>();  // owned by the callback, see common.h
  add_model_options(cmd, &opts->model);
  cmd->add_option("--adapter", opts->adapters,
                  "NAME=PATH: serve a tuned prompt (adapter folder or discrete prompt file) as "
                  "model id NAME (repeatable)");
  cmd->add_option("--task", opts->tasks,
                  "MODEL_ID=TASK.json: serve POST /v1/classify for that model id (the base "
                  "model's or an adapter's) with this classification task's template, "
                  "verbalizer and demos (repeatable)");
  cmd->add_option("--host", opts->host, "Address to listen on (loopback unless you say so)")
      ->capture_default_str();
  cmd->add_option("--port", opts->port, "Port (0 = any free port; the log line says which)")
      ->check(in_range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--model-id", opts->model_id,
                  "The base model's id in the API (default: the GGUF file name without .gguf)");
  cmd->add_option("--api-key-env", opts->api_key_env,
                  "Require \"Authorization: Bearer KEY\" with KEY read from this environment "
                  "variable (never from a flag, so it stays out of process lists)");
  cmd->add_option("--max-sequences", opts->engine.max_sequences,
                  "Sequences decoded together at most (the batch)")
      ->check(in_range(1, kMaxBatchSize))
      ->capture_default_str();
  cmd->add_option("--max-queue", opts->engine.max_queue,
                  "Requests waiting to start at most; more get 429 with Retry-After")
      ->check(in_range(0, kMaxBatchSize))
      ->capture_default_str();
  cmd->add_option("--prefill-chunk", opts->engine.prefill_chunk,
                  "Prompt tokens per prefill step, so long prompts do not stall decoding")
      ->check(in_range(1, kMaxNewTokens))
      ->capture_default_str();
  cmd->add_option("--prefix-cache", opts->engine.prefix_cache_mib,
                  "MiB of prefilled prompts' keys/values kept, so a prompt starting as an earlier "
                  "one did (same adapter) runs only its new tokens (0 = off)")
      ->check(in_range(0, int64_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--max-body-bytes", opts->max_body_bytes, "Larger request bodies get 413")
      ->check(in_range(1024, int64_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--adapter-memory", opts->adapter_memory_mib,
                  "MiB the adapters' keys/values may take together (at start and through POST "
                  "/v1/adapters; 0 = no bound)")
      ->check(in_range(0, int64_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--request-timeout", opts->request_timeout,
                  "Seconds a request may take; then it is cancelled (504)")
      ->check(real_in_range(0.001, 86400))
      ->capture_default_str();
  cmd->callback([opts] { run_serve(*opts); });
}

}  // namespace ptune::cli
