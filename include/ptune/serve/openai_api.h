// The OpenAI HTTP API as `ptune serve` speaks it: request bodies parsed into typed requests, and
// the JSON shapes of responses, stream chunks and errors. No libtorch and no sockets here, so
// every request a client can send is fuzzed (fuzz/targets/api_request.cpp).
//
// Requests are read strictly, as OpenAI reads them: an unknown field is an error naming it (a
// typo such as "max_token" is never silently ignored), null means "not given", and a field that
// ptune does not implement is accepted only at its no-op value ("n": 1, "presence_penalty": 0),
// else refused naming the field. Every error is an ApiError: the HTTP status and OpenAI's
// {"error": {"message", "type", "param", "code"}} body.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ptune::serve {

// Bounds on what one request may ask for (the server adds its own: context, queue, body size).
inline constexpr int64_t kMaxRequestTokens = 1 << 20;  // max_tokens
inline constexpr size_t kMaxStopStrings = 4;           // OpenAI's limit
inline constexpr size_t kMaxStopBytes = 256;
inline constexpr int64_t kMaxTopLogprobs = 20;  // chat top_logprobs (completions: 5)
inline constexpr size_t kMaxMessages = 4096;
inline constexpr int kMaxRequestJsonDepth = 32;
inline constexpr size_t kMaxClassifyInputs = 256;  // texts in one /v1/classify request

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string type, const std::string& message, std::string param = {},
           std::string code = {});
  int status() const { return status_; }
  const std::string& type() const { return type_; }  // "invalid_request_error", ...
  const std::string& param() const { return param_; }
  const std::string& code() const { return code_; }
  // OpenAI's error body.
  nlohmann::json body() const;

 private:
  int status_;
  std::string type_, param_, code_;
};

// A 400 "invalid_request_error" naming `param`.
ApiError invalid_request(const std::string& param, const std::string& message);

// What sampling and stopping a request asks for (OpenAI's defaults).
struct SamplingRequest {
  std::optional<int64_t> max_tokens;  // unset: up to the context's end
  double temperature = 1.0;           // 0 = greedy
  double top_p = 1.0;
  std::optional<uint64_t> seed;  // unset: the server picks one (and the result is not repeatable)
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage: a last chunk with usage
  int top_logprobs = -1;       // -1 = no logprobs; else the chosen token's plus this many best
};

struct CompletionRequest {
  std::string model;
  std::string prompt;
  // The prompt text comes back before the completion; with logprobs, its tokens' log-probs too
  // (scoring a text: echo, logprobs 0, max_tokens 0).
  bool echo = false;
  SamplingRequest sampling;
};

struct ChatRequestMessage {
  std::string role;  // system | user | assistant ("developer" is read as system)
  std::string content;
};

struct ChatRequest {
  std::string model;
  std::vector<ChatRequestMessage> messages;
  SamplingRequest sampling;
};

// ptune's own /v1/classify: texts to classify under the task served for `model`. Each input is
// the query's fields; a plain string is the one field "" (the task's only input field).
struct ClassifyRequest {
  std::string model;
  std::vector<std::map<std::string, std::string>> inputs;
};

// POST /v1/adapters: a tuned prompt to start serving as model id `name`.
struct AdapterRequest {
  std::string name;
  std::string path;  // on the server's machine
};

// Each throws ApiError (400, naming the field) for a body that is not a JSON object, a missing or
// mistyped field, a value out of range, or an unknown or unsupported field.
CompletionRequest parse_completion_request(const std::string& body);
ChatRequest parse_chat_request(const std::string& body);
ClassifyRequest parse_classify_request(const std::string& body);
AdapterRequest parse_adapter_request(const std::string& body);

// --- Responses ---------------------------------------------------------------------------------

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

// One generated token's log-probability and the best alternatives at its step.
struct TokenLogprob {
  std::string token;  // the token's bytes as text (may be part of a UTF-8 character)
  // Unset for a prompt's first token (echo), which nothing predicts: JSON null.
  std::optional<double> logprob;
  std::vector<std::pair<std::string, double>> top;  // best first
};

struct Choice {
  std::string text;
  std::string finish_reason;  // "stop" | "length"
  std::vector<TokenLogprob> logprobs;
  bool with_logprobs = false;
};

// `object` "text_completion" bodies (completions) and "chat.completion" bodies (chat).
nlohmann::json completion_body(const std::string& id, int64_t created, const std::string& model,
                               const Choice& choice, const Usage& usage);
nlohmann::json chat_body(const std::string& id, int64_t created, const std::string& model,
                         const Choice& choice, const Usage& usage);

// Stream chunks. A chat stream opens with a chunk whose delta is {"role": "assistant"}; the last
// content chunk carries finish_reason; an optional usage chunk follows (choices empty).
nlohmann::json completion_chunk(const std::string& id, int64_t created, const std::string& model,
                                const std::string& text, const std::string& finish_reason,
                                const std::vector<TokenLogprob>* logprobs = nullptr);
nlohmann::json chat_chunk(const std::string& id, int64_t created, const std::string& model,
                          const std::optional<std::string>& role, const std::string& content,
                          const std::string& finish_reason,
                          const std::vector<TokenLogprob>* logprobs = nullptr);
nlohmann::json usage_chunk(const std::string& id, int64_t created, const std::string& model,
                           bool chat, const Usage& usage);

// One Server-Sent Event as OpenAI sends them: "data: JSON\n\n" (invalid UTF-8 written as
// U+FFFD, since a token may end mid-character).
std::string sse_event(const nlohmann::json& chunk);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";

// `dump` that never throws on invalid UTF-8 (writes U+FFFD).
std::string to_json_text(const nlohmann::json& value);

}  // namespace ptune::serve
