// Request bodies of the OpenAI API, read strictly (see openai_api.h).
#include <set>
#include <string>

#include "ptune/serve/openai_api.h"
#include "ptune/util/errors.h"
#include "ptune/util/json.h"
#include "ptune/util/json_reader.h"

namespace ptune::serve {

namespace {

using util::ordered_json;

const std::string kBody = "request body";

// The body as a JSON object, with top-level nulls dropped (null means "not given").
ordered_json parse_body(const std::string& body) {
  ordered_json j;
  try {
    j = util::parse_json_strict<ordered_json>(body, kMaxRequestJsonDepth);
  } catch (const util::JsonSyntaxError& e) {
    throw invalid_request("", std::string("the request body is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) {
    throw invalid_request(
        "", std::string("the request body must be a JSON object, got ") + j.type_name());
  }
  for (auto it = j.begin(); it != j.end();) {
    it = it.value().is_null() ? j.erase(it) : std::next(it);
  }
  return j;
}

// Runs `read`, turning the reader's errors into a 400 naming the field.
template <typename Read>
auto read_fields(Read read) {
  try {
    return read();
  } catch (const util::JsonKeyError& e) {
    throw invalid_request(e.key(), (e.key().empty() ? std::string() : "'" + e.key() + "': ") +
                                       util::clipped(e.reason(), 200));
  }
}

// Fields ptune accepts only at the value that changes nothing, so a client that sends the
// default works and one that asks for the feature learns it is missing.
void refuse_unsupported(const util::JsonReader& r) {
  if (const auto* n = r.find("n"); n && *n != 1) r.fail("n", "only n = 1 is supported");
  if (const auto* n = r.find("best_of"); n && *n != 1) {
    r.fail("best_of", "only best_of = 1 is supported");
  }
  for (const char* key : {"presence_penalty", "frequency_penalty"}) {
    const auto* v = r.find(key);
    if (v && !(v->is_number() && v->get<double>() == 0.0)) r.fail(key, "only 0 is supported");
  }
  if (const auto* v = r.find("logit_bias"); v && !(v->is_object() && v->empty())) {
    r.fail("logit_bias", "logit_bias is not supported");
  }
  if (const auto* v = r.find("tools"); v && !(v->is_array() && v->empty())) {
    r.fail("tools", "tools are not supported");
  }
  if (const auto* v = r.find("response_format"); v) {
    const bool text =
        v->is_object() && v->size() == 1 && v->contains("type") && (*v)["type"] == "text";
    if (!text) r.fail("response_format", "only {\"type\": \"text\"} is supported");
  }
  if (const auto* v = r.find("suffix"); v && !(v->is_string() && v->get<std::string>().empty())) {
    r.fail("suffix", "suffix is not supported");
  }
}

// Fields every generating request shares.
const std::set<std::string> kSamplingKeys = {"model",
                                             "max_tokens",
                                             "temperature",
                                             "top_p",
                                             "seed",
                                             "stop",
                                             "stream",
                                             "stream_options",
                                             "n",
                                             "presence_penalty",
                                             "frequency_penalty",
                                             "logit_bias",
                                             "user",
                                             "best_of"};

// `min_tokens` 0 lets completions with echo score a prompt without generating.
SamplingRequest read_sampling(const util::JsonReader& r, const char* max_tokens_key,
                              int64_t min_tokens = 1) {
  SamplingRequest s;
  if (r.has(max_tokens_key)) {
    s.max_tokens = r.integer(max_tokens_key, 0, min_tokens, kMaxRequestTokens);
  }
  s.temperature = r.number("temperature", 1.0);
  if (!(s.temperature >= 0 && s.temperature <= 2)) {
    r.fail("temperature", "must be between 0 and 2");
  }
  s.top_p = r.number("top_p", 1.0);
  if (!(s.top_p > 0 && s.top_p <= 1)) r.fail("top_p", "must be greater than 0 and at most 1");
  if (r.has("seed")) {
    const auto& v = *r.find("seed");
    if (v.is_number_unsigned()) {
      s.seed = v.get<uint64_t>();
    } else if (v.is_number_integer()) {  // negative: OpenAI accepts any 64-bit integer
      s.seed = static_cast<uint64_t>(v.get<int64_t>());
    } else {
      r.fail("seed", "expected an integer");
    }
  }
  s.stop = r.strings("stop", {});
  if (s.stop.size() > kMaxStopStrings) {
    r.fail("stop", "at most " + std::to_string(kMaxStopStrings) + " stop strings");
  }
  for (const std::string& stop : s.stop) {
    if (stop.empty()) r.fail("stop", "a stop string is empty");
    if (stop.size() > kMaxStopBytes) {
      r.fail("stop", "a stop string is longer than " + std::to_string(kMaxStopBytes) + " bytes");
    }
  }
  s.stream = r.boolean("stream", false);
  const util::JsonReader so = r.object("stream_options", {"include_usage"});
  s.include_usage = so.boolean("include_usage", false);
  if (r.has("stream_options") && !s.stream) {
    r.fail("stream_options", "only allowed with \"stream\": true");
  }
  if (r.has("user")) (void)r.str("user");
  refuse_unsupported(r);
  return s;
}

std::string required_model(const util::JsonReader& r) {
  if (!r.has("model")) r.fail("model", "is required");
  std::string model = r.str("model");
  if (model.empty()) r.fail("model", "is empty");
  return model;
}

// A message's content: a string, or a list of {"type": "text", "text": ...} parts (joined).
std::string message_content(const util::JsonReader& m) {
  const auto* v = m.find("content");
  if (!v) m.fail("content", "is required");
  if (v->is_string()) return v->get<std::string>();
  if (!v->is_array()) m.fail("content", "expected a string or a list of text parts");
  std::string text;
  for (size_t i = 0; i < v->size(); ++i) {
    const util::JsonReader part((*v)[i], m.key_path("content") + "[" + std::to_string(i) + "]",
                                kBody, {"type", "text"});
    if (part.str("type") != "text") part.fail("type", "only \"text\" parts are supported");
    text += part.str("text");
  }
  return text;
}

ChatRequestMessage read_message(const ordered_json& value, size_t i) {
  const util::JsonReader m(value, "messages[" + std::to_string(i) + "]", kBody,
                           {"role", "content", "name"});
  ChatRequestMessage msg;
  msg.role = m.str("role");
  if (msg.role == "developer") msg.role = "system";
  if (msg.role != "system" && msg.role != "user" && msg.role != "assistant") {
    m.fail("role",
           "must be system, developer, user or assistant, got '" + util::clipped(msg.role) + "'");
  }
  msg.content = message_content(m);
  return msg;
}

}  // namespace

CompletionRequest parse_completion_request(const std::string& body) {
  const ordered_json j = parse_body(body);
  return read_fields([&] {
    std::set<std::string> keys = kSamplingKeys;
    keys.insert({"prompt", "echo", "logprobs", "suffix"});
    const util::JsonReader r(j, "", kBody, keys);
    CompletionRequest req;
    req.model = required_model(r);
    if (!r.has("prompt")) r.fail("prompt", "is required");
    const std::vector<std::string> prompts = r.strings("prompt", {});
    if (prompts.size() != 1) r.fail("prompt", "give one prompt (a string) per request");
    req.prompt = prompts[0];
    req.echo = r.boolean("echo", false);
    req.sampling = read_sampling(r, "max_tokens", /*min_tokens=*/req.echo ? 0 : 1);
    if (!r.has("max_tokens")) req.sampling.max_tokens = 16;  // OpenAI's completions default
    if (r.has("logprobs")) {
      req.sampling.top_logprobs = static_cast<int>(r.integer("logprobs", 0, 0, 5));
      if (req.echo && req.sampling.stream) {
        r.fail("logprobs", "echo with logprobs is answered whole; send \"stream\": false");
      }
    }
    if (req.sampling.max_tokens == 0 && req.sampling.stream) {
      r.fail("max_tokens", "0 (scoring the prompt) is answered whole; send \"stream\": false");
    }
    return req;
  });
}

ChatRequest parse_chat_request(const std::string& body) {
  const ordered_json j = parse_body(body);
  return read_fields([&] {
    std::set<std::string> keys = kSamplingKeys;
    keys.insert({"messages", "logprobs", "top_logprobs", "max_completion_tokens", "tools",
                 "response_format"});
    const util::JsonReader r(j, "", kBody, keys);
    ChatRequest req;
    req.model = required_model(r);
    const auto* msgs = r.find("messages");
    if (!msgs) r.fail("messages", "is required");
    if (!msgs->is_array() || msgs->empty()) r.fail("messages", "expected a non-empty list");
    if (msgs->size() > kMaxMessages) {
      r.fail("messages", "more than " + std::to_string(kMaxMessages) + " messages");
    }
    for (size_t i = 0; i < msgs->size(); ++i) req.messages.push_back(read_message((*msgs)[i], i));
    if (r.has("max_tokens") && r.has("max_completion_tokens")) {
      r.fail("max_completion_tokens", "give max_tokens or max_completion_tokens, not both");
    }
    req.sampling =
        read_sampling(r, r.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens");
    const bool logprobs = r.boolean("logprobs", false);
    if (r.has("top_logprobs") && !logprobs) {
      r.fail("top_logprobs", "only allowed with \"logprobs\": true");
    }
    if (logprobs) {
      req.sampling.top_logprobs =
          static_cast<int>(r.integer("top_logprobs", 0, 0, kMaxTopLogprobs));
    }
    return req;
  });
}

ClassifyRequest parse_classify_request(const std::string& body) {
  const ordered_json j = parse_body(body);
  return read_fields([&] {
    const util::JsonReader r(j, "", kBody, {"model", "input"});
    ClassifyRequest req;
    req.model = required_model(r);
    const auto* input = r.find("input");
    if (!input) r.fail("input", "is required");
    const ordered_json items = input->is_array() ? *input : ordered_json::array({*input});
    if (items.empty()) r.fail("input", "is an empty list");
    if (items.size() > kMaxClassifyInputs) {
      r.fail("input", "more than " + std::to_string(kMaxClassifyInputs) + " inputs");
    }
    for (size_t i = 0; i < items.size(); ++i) {
      const ordered_json& item = items[i];
      const std::string path = "input[" + std::to_string(i) + "]";
      std::map<std::string, std::string> fields;
      if (item.is_string()) {
        fields[""] = item.get<std::string>();
      } else if (item.is_object() && !item.empty()) {
        for (const auto& [key, value] : item.items()) {
          if (!value.is_string()) r.fail(path + "." + key, "expected a string");
          fields[key] = value.get<std::string>();
        }
      } else {
        r.fail(path, "expected a text or an object of field texts");
      }
      req.inputs.push_back(std::move(fields));
    }
    return req;
  });
}

AdapterRequest parse_adapter_request(const std::string& body) {
  const ordered_json j = parse_body(body);
  return read_fields([&] {
    const util::JsonReader r(j, "", kBody, {"name", "path"});
    AdapterRequest req;
    for (const char* key : {"name", "path"}) {
      if (!r.has(key)) r.fail(key, "is required");
      if (r.str(key).empty()) r.fail(key, "is empty");
    }
    req.name = r.str("name");
    req.path = r.str("path");
    return req;
  });
}

}  // namespace ptune::serve
