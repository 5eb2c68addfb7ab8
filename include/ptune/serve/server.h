// `ptune serve`: an OpenAI-compatible HTTP server over one frozen model and many tuned prompts.
//
//   GET  /health                 {"status": "ok"} (503 "draining" once shutting down)
//   GET  /metrics                Prometheus text: requests, tokens, queue, batch sizes, latency
//   GET  /v1/models              the base model and every adapter, each a model id
//   POST /v1/completions         prompt in (special-token text read, as llama.cpp's server does)
//   POST /v1/chat/completions    messages through the model's chat template (contents literal)
//   POST /v1/adapters            {"name", "path"}: serve one more tuned prompt (201), within
//                                the adapters' memory budget (409 past it or for a used name)
//   DELETE /v1/adapters/NAME     stop serving it; requests already running with it finish
//   POST /v1/classify            ptune's own: texts in, label probabilities out, under the
//                                classification task served for the model id (ServedTask),
//                                scored exactly as `ptune eval` scores it
//
// A request's "model" picks the tuned prompt: the base model's id, or an adapter's NAME. A
// continuous adapter's keys/values are computed once at start and prepended to each of its
// rows; a discrete one is text, placed as `ptune generate` places it. Requests of every model id
// decode together in one batch (engine.h).
//
// Bounds: the engine's running and queue limits (then 429 with Retry-After), the body size
// (413), max_tokens against the context (400), a per-request timeout (the sequence is
// cancelled; a stream ends with an error event). A stream whose client goes away is cancelled
// at its next token. Every error is OpenAI's JSON error shape (openai_api.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ptune/methods/prompt_artifact.h"
#include "ptune/model/model.h"
#include "ptune/serve/engine.h"
#include "ptune/tasks/task.h"
#include "ptune/tokenizer/tokenizer.h"

namespace httplib {
class Server;
}

namespace ptune::serve {

// A tuned prompt served under `name`.
struct ServedAdapter {
  std::string name;
  methods::PromptArtifact artifact;
  std::shared_ptr<const PastKV> state;  // a continuous prompt's keys/values; null if discrete
};

// Loads `path` (adapter folder or discrete prompt file) for serving as `name`. Throws
// std::invalid_argument for a name that is not a valid model id, and what the loaders throw.
ServedAdapter load_served_adapter(const std::string& name, const std::string& path,
                                  const Model& model);

// A classification task served for a model id (the base model's or an adapter's): its file and
// data (the few-shot demos come from it, as in `ptune eval`).
struct ServedTask {
  std::string model_id;
  tasks::TaskSpec task;
  tasks::TaskData data;
};

// Loads the task file at `path` for `model_id`. Throws std::invalid_argument for a task that is
// not classification, and what the task loaders throw.
ServedTask load_served_task(const std::string& model_id, const std::string& path);

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                   // 0 = any free port (Server::port() says which)
  std::string model_id;              // the base model's id in /v1/models and "model"
  std::string api_key;               // empty = no authentication
  size_t max_body_bytes = 8u << 20;  // larger bodies get 413
  double request_timeout_seconds = 600;
  int64_t adapter_memory_bytes = int64_t{1} << 30;  // adapters' keys/values together; 0 = no bound
  EngineOptions engine;
};

class Server {
 public:
  // Keeps references to model and tokenizer; they must outlive the server.
  // Throws std::invalid_argument for a repeated adapter name, or a task for an id not served.
  Server(const Model& model, const Tokenizer& tokenizer, std::vector<ServedAdapter> adapters,
         ServerOptions options, std::vector<ServedTask> tasks = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the port (throws std::runtime_error naming host and port when it cannot).
  void bind();
  int port() const { return port_; }
  // Serves until stop(); call after bind(), at most once. Returns at once if stop() came first.
  // The server must outlive it (join the thread that runs it before destroying the server).
  void listen();
  // Stops accepting requests (new ones get 503), lets every admitted one finish, then closes.
  // Safe from any thread, once or more.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace ptune::serve
