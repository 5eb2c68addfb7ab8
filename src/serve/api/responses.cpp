// Response, stream-chunk and error bodies in OpenAI's shapes (see openai_api.h).
#include <string>

#include "ptune/serve/openai_api.h"

namespace ptune::serve {

namespace {

using nlohmann::json;

json usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

json finish(const std::string& reason) {
  return reason.empty() ? json(nullptr) : json(reason);
}

std::vector<int> utf8_bytes(const std::string& s) {
  std::vector<int> bytes;
  for (unsigned char c : s) bytes.push_back(c);
  return bytes;
}

json logprob_json(const TokenLogprob& t) {
  return t.logprob ? json(*t.logprob) : json(nullptr);
}

// Completions' logprobs: parallel lists, as the legacy API returns them.
json completion_logprobs(const std::vector<TokenLogprob>& lps, size_t text_offset) {
  json tokens = json::array(), logprobs = json::array(), top = json::array(),
       offsets = json::array();
  for (const TokenLogprob& t : lps) {
    tokens.push_back(t.token);
    logprobs.push_back(logprob_json(t));
    json alternatives = json::object();
    for (const auto& [tok, lp] : t.top) alternatives[tok] = lp;
    top.push_back(t.logprob ? alternatives : json(nullptr));
    offsets.push_back(text_offset);
    text_offset += t.token.size();
  }
  return {{"tokens", tokens},
          {"token_logprobs", logprobs},
          {"top_logprobs", top},
          {"text_offset", offsets}};
}

// Chat's logprobs: one object per token with its bytes and alternatives.
json chat_logprobs(const std::vector<TokenLogprob>& lps) {
  json content = json::array();
  for (const TokenLogprob& t : lps) {
    json top = json::array();
    for (const auto& [tok, lp] : t.top) {
      top.push_back({{"token", tok}, {"logprob", lp}, {"bytes", utf8_bytes(tok)}});
    }
    content.push_back({{"token", t.token},
                       {"logprob", logprob_json(t)},
                       {"bytes", utf8_bytes(t.token)},
                       {"top_logprobs", top}});
  }
  return {{"content", content}, {"refusal", nullptr}};  // OpenAI's shape: no refusal here
}

json envelope(const std::string& id, const char* object, int64_t created,
              const std::string& model) {
  return {{"id", id}, {"object", object}, {"created", created}, {"model", model}};
}

}  // namespace

ApiError::ApiError(int status, std::string type, const std::string& message, std::string param,
                   std::string code)
    : std::runtime_error(message),
      status_(status),
      type_(std::move(type)),
      param_(std::move(param)),
      code_(std::move(code)) {}

json ApiError::body() const {
  return {{"error",
           {{"message", what()},
            {"type", type_},
            {"param", param_.empty() ? json(nullptr) : json(param_)},
            {"code", code_.empty() ? json(nullptr) : json(code_)}}}};
}

ApiError invalid_request(const std::string& param, const std::string& message) {
  return ApiError(400, "invalid_request_error", message, param);
}

json completion_body(const std::string& id, int64_t created, const std::string& model,
                     const Choice& c, const Usage& usage) {
  json body = envelope(id, "text_completion", created, model);
  body["choices"] = json::array(
      {{{"index", 0},
        {"text", c.text},
        {"logprobs", c.with_logprobs ? completion_logprobs(c.logprobs, 0) : json(nullptr)},
        {"finish_reason", finish(c.finish_reason)}}});
  body["usage"] = usage_json(usage);
  return body;
}

json chat_body(const std::string& id, int64_t created, const std::string& model, const Choice& c,
               const Usage& usage) {
  json body = envelope(id, "chat.completion", created, model);
  body["choices"] =
      json::array({{{"index", 0},
                    {"message", {{"role", "assistant"}, {"content", c.text}}},
                    {"logprobs", c.with_logprobs ? chat_logprobs(c.logprobs) : json(nullptr)},
                    {"finish_reason", finish(c.finish_reason)}}});
  body["usage"] = usage_json(usage);
  return body;
}

json completion_chunk(const std::string& id, int64_t created, const std::string& model,
                      const std::string& text, const std::string& finish_reason,
                      const std::vector<TokenLogprob>* logprobs) {
  json body = envelope(id, "text_completion", created, model);
  body["choices"] =
      json::array({{{"index", 0},
                    {"text", text},
                    {"logprobs", logprobs ? completion_logprobs(*logprobs, 0) : json(nullptr)},
                    {"finish_reason", finish(finish_reason)}}});
  return body;
}

json chat_chunk(const std::string& id, int64_t created, const std::string& model,
                const std::optional<std::string>& role, const std::string& content,
                const std::string& finish_reason, const std::vector<TokenLogprob>* logprobs) {
  json body = envelope(id, "chat.completion.chunk", created, model);
  json delta = json::object();
  if (role) delta["role"] = *role;
  if (!content.empty() || (!role && finish_reason.empty())) delta["content"] = content;
  body["choices"] = json::array({{{"index", 0},
                                  {"delta", delta},
                                  {"logprobs", logprobs ? chat_logprobs(*logprobs) : json(nullptr)},
                                  {"finish_reason", finish(finish_reason)}}});
  return body;
}

json usage_chunk(const std::string& id, int64_t created, const std::string& model, bool chat,
                 const Usage& usage) {
  json body = envelope(id, chat ? "chat.completion.chunk" : "text_completion", created, model);
  body["choices"] = json::array();
  body["usage"] = usage_json(usage);
  return body;
}

std::string to_json_text(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string sse_event(const json& chunk) {
  return "data: " + to_json_text(chunk) + "\n\n";
}

}  // namespace ptune::serve
