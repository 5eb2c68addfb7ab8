// libFuzzer target for `ptune serve`'s request bodies: byte 0 picks /v1/completions,
// /v1/chat/completions, /v1/classify or POST /v1/adapters, the rest is the body. Only ApiError (a
// 400 naming the field) may escape parsing; an accepted request must hold values inside every
// documented bound, and the response and stream bodies built from its text (the prompt or the last
// message as the "generated" text, logprobs included) must serialize without throwing.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ptune/serve/openai_api.h"

namespace {

using namespace ptune::serve;

// `min_tokens` 0: completions with echo, which may score a prompt without generating.
void check_sampling(const SamplingRequest& s, int64_t min_tokens = 1) {
  if (s.max_tokens && (*s.max_tokens < min_tokens || *s.max_tokens > kMaxRequestTokens)) {
    std::abort();
  }
  if (!(s.temperature >= 0 && s.temperature <= 2)) std::abort();
  if (!(s.top_p > 0 && s.top_p <= 1)) std::abort();
  if (s.stop.size() > kMaxStopStrings) std::abort();
  for (const std::string& stop : s.stop) {
    if (stop.empty() || stop.size() > kMaxStopBytes) std::abort();
  }
  if (s.top_logprobs < -1 || s.top_logprobs > kMaxTopLogprobs) std::abort();
  if (s.include_usage && !s.stream) std::abort();
}

// Every body a response can take, with `text` as the completion (it may be any bytes).
void build_bodies(const std::string& model, const std::string& text, bool chat) {
  Choice c;
  c.text = text;
  c.finish_reason = "stop";
  c.with_logprobs = true;
  c.logprobs = {{text, -1.0, {{text, -1.0}}}};
  const Usage u{1, 1};
  const auto body = chat ? chat_body("id", 0, model, c, u) : completion_body("id", 0, model, c, u);
  if (to_json_text(body).empty()) std::abort();
  const auto chunk = chat ? chat_chunk("id", 0, model, std::nullopt, text, "", &c.logprobs)
                          : completion_chunk("id", 0, model, text, "", &c.logprobs);
  if (sse_event(chunk).rfind("data: ", 0) != 0) std::abort();
  (void)sse_event(usage_chunk("id", 0, model, chat, u));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int route = data[0] % 4;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (route == 3) {
      const AdapterRequest r = parse_adapter_request(body);
      if (r.name.empty() || r.path.empty()) std::abort();
    } else if (route == 2) {
      const ClassifyRequest r = parse_classify_request(body);
      if (r.model.empty() || r.inputs.empty() || r.inputs.size() > kMaxClassifyInputs) {
        std::abort();
      }
      for (const auto& fields : r.inputs) {
        if (fields.empty() || (fields.count("") && fields.size() != 1)) std::abort();
      }
    } else if (route == 1) {
      const ChatRequest r = parse_chat_request(body);
      if (r.model.empty() || r.messages.empty() || r.messages.size() > kMaxMessages) std::abort();
      for (const ChatRequestMessage& m : r.messages) {
        if (m.role != "system" && m.role != "user" && m.role != "assistant") std::abort();
      }
      check_sampling(r.sampling);
      build_bodies(r.model, r.messages.back().content, true);
    } else {
      const CompletionRequest r = parse_completion_request(body);
      if (r.model.empty() || !r.sampling.max_tokens) std::abort();
      // Echo with logprobs, and scoring without generating, are answered whole only.
      if (r.echo && r.sampling.top_logprobs >= 0 && r.sampling.stream) std::abort();
      if (*r.sampling.max_tokens == 0 && (!r.echo || r.sampling.stream)) std::abort();
      check_sampling(r.sampling, r.echo ? 0 : 1);
      build_bodies(r.model, r.prompt, false);
    }
  } catch (const ApiError& e) {
    // The message may quote the body's bytes (not always UTF-8); the server writes it with
    // to_json_text, which must give JSON a client can parse.
    if (e.status() != 400) std::abort();
    if (nlohmann::json::parse(to_json_text(e.body()), nullptr, false).is_discarded()) std::abort();
  }
  return 0;
}
