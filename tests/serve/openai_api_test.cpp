// The OpenAI request reader: what it accepts, what it refuses and how the refusal names the field;
// and the shapes of response bodies, chunks and errors.
#include <gtest/gtest.h>

#include "ptune/serve/openai_api.h"

namespace ptune::serve {
namespace {

using nlohmann::json;

// The ApiError `parse` throws for `body` (fails the test when none).
template <typename Parse>
ApiError error_of(Parse parse, const std::string& body) {
  try {
    parse(body);
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "accepted: " << body;
  return ApiError(0, "", "");
}

ApiError completion_error(const std::string& body) {
  return error_of(parse_completion_request, body);
}
ApiError chat_error(const std::string& body) {
  return error_of(parse_chat_request, body);
}

TEST(OpenAiRequestTest, CompletionWithEveryFieldItReads) {
  const CompletionRequest r = parse_completion_request(R"({
    "model": "m", "prompt": "Hello", "max_tokens": 5, "temperature": 0.5, "top_p": 0.9,
    "seed": 7, "stop": ["\n", "."], "stream": true, "stream_options": {"include_usage": true},
    "logprobs": 2, "n": 1, "presence_penalty": 0, "frequency_penalty": 0, "user": "u",
    "logit_bias": {}, "echo": false, "suffix": null})");
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.prompt, "Hello");
  EXPECT_EQ(*r.sampling.max_tokens, 5);
  EXPECT_DOUBLE_EQ(r.sampling.temperature, 0.5);
  EXPECT_DOUBLE_EQ(r.sampling.top_p, 0.9);
  EXPECT_EQ(*r.sampling.seed, 7u);
  EXPECT_EQ(r.sampling.stop, (std::vector<std::string>{"\n", "."}));
  EXPECT_TRUE(r.sampling.stream);
  EXPECT_TRUE(r.sampling.include_usage);
  EXPECT_EQ(r.sampling.top_logprobs, 2);
}

TEST(OpenAiRequestTest, CompletionDefaultsAreOpenAis) {
  const CompletionRequest r = parse_completion_request(R"({"model": "m", "prompt": ["Hi"]})");
  EXPECT_EQ(r.prompt, "Hi");
  EXPECT_EQ(*r.sampling.max_tokens, 16);
  EXPECT_DOUBLE_EQ(r.sampling.temperature, 1.0);
  EXPECT_FALSE(r.sampling.seed.has_value());
  EXPECT_FALSE(r.sampling.stream);
  EXPECT_EQ(r.sampling.top_logprobs, -1);
  // A single stop string is a list of one; null is "not given".
  EXPECT_EQ(parse_completion_request(R"({"model":"m","prompt":"x","stop":"END","seed":null})")
                .sampling.stop,
            std::vector<std::string>{"END"});
}

TEST(OpenAiRequestTest, RefusalsNameTheField) {
  struct Case {
    std::string body, param, says;
  };
  const std::vector<Case> cases = {
      {R"({"model":"m","prompt":"x","max_token":5})", "max_token", "unknown"},
      {R"({"model":"m","prompt":"x","max_tokens":0})", "max_tokens", "between"},
      {R"({"model":"m","prompt":"x","max_tokens":"5"})", "max_tokens", "integer"},
      {R"({"model":"m","prompt":"x","temperature":3})", "temperature", "between 0 and 2"},
      {R"({"model":"m","prompt":"x","top_p":0})", "top_p", "greater than 0"},
      {R"({"model":"m","prompt":"x","n":2})", "n", "only n = 1"},
      {R"({"model":"m","prompt":"x","presence_penalty":0.5})", "presence_penalty", "only 0"},
      {R"({"model":"m","prompt":"x","logit_bias":{"1":5}})", "logit_bias", "not supported"},
      {R"({"model":"m","prompt":"x","stop":["a","b","c","d","e"]})", "stop", "at most 4"},
      {R"({"model":"m","prompt":"x","stop":[""]})", "stop", "empty"},
      {R"({"model":"m","prompt":"x","stream_options":{"include_usage":true}})", "stream_options",
       "stream"},
      {R"({"model":"m","prompt":"x","logprobs":9})", "logprobs", "between 0 and 5"},
      {R"({"model":"m","prompt":"x","logprobs":1,"echo":true,"stream":true})", "logprobs",
       "stream"},
      {R"({"model":"m","prompt":"x","max_tokens":0,"echo":true,"stream":true})", "max_tokens",
       "stream"},
      {R"({"model":"m","prompt":["a","b"]})", "prompt", "one prompt"},
      {R"({"model":"m"})", "prompt", "required"},
      {R"({"prompt":"x"})", "model", "required"},
      {R"({"model":"","prompt":"x"})", "model", "empty"},
      {R"({"model":"m","prompt":"x","seed":1.5})", "seed", "integer"},
  };
  for (const Case& c : cases) {
    const ApiError e = completion_error(c.body);
    EXPECT_EQ(e.status(), 400) << c.body;
    EXPECT_EQ(e.param(), c.param) << c.body << " -> " << e.what();
    EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos)
        << c.body << " -> " << e.what();
  }
}

TEST(OpenAiRequestTest, BodiesThatAreNotAnObjectAreRefused) {
  for (const std::string& body :
       std::vector<std::string>{"", "not json", "[1,2]", "\"text\"", "{\"a\":1,\"a\":2}",
                                std::string(100, '[') + std::string(100, ']')}) {
    const ApiError e = completion_error(body);
    EXPECT_EQ(e.status(), 400) << body;
    EXPECT_EQ(e.type(), "invalid_request_error");
  }
}

// The parser's message may quote bytes of the body that are not UTF-8 (a fuzzer finding: the
// error body then failed to serialize); the body the server writes still parses.
TEST(OpenAiRequestTest, ErrorsQuotingInvalidUtf8StillMakeJson) {
  const ApiError e = completion_error("{\"model\": \"m\", \"n\x9a\x9a\": 1}");
  EXPECT_EQ(e.status(), 400);
  const json again = json::parse(to_json_text(e.body()), nullptr, false);
  ASSERT_FALSE(again.is_discarded());
  EXPECT_EQ(again["error"]["type"], "invalid_request_error");
}

TEST(OpenAiRequestTest, ChatMessagesAndTheirRefusals) {
  const ChatRequest r = parse_chat_request(R"({"model":"m","messages":[
      {"role":"developer","content":"Be brief."},
      {"role":"user","content":[{"type":"text","text":"Hi "},{"type":"text","text":"there"}]}],
      "max_completion_tokens": 8, "logprobs": true, "top_logprobs": 3})");
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[1].content, "Hi there");
  EXPECT_EQ(*r.sampling.max_tokens, 8);
  EXPECT_EQ(r.sampling.top_logprobs, 3);
  EXPECT_FALSE(parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"x"}]})")
                   .sampling.max_tokens.has_value());

  EXPECT_EQ(chat_error(R"({"model":"m","messages":[]})").param(), "messages");
  EXPECT_EQ(chat_error(R"({"model":"m","messages":[{"role":"tool","content":"x"}]})").param(),
            "messages[0].role");
  EXPECT_EQ(chat_error(R"({"model":"m","messages":[{"role":"user"}]})").param(),
            "messages[0].content");
  EXPECT_EQ(
      chat_error(R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url"}]}]})")
          .param(),
      "messages[0].content[0].type");
  EXPECT_EQ(
      chat_error(R"({"model":"m","messages":[{"role":"user","content":"x"}],"top_logprobs":2})")
          .param(),
      "top_logprobs");
  EXPECT_EQ(chat_error(R"({"model":"m","messages":[{"role":"user","content":"x"}],
                           "tools":[{"type":"function"}]})")
                .param(),
            "tools");
  EXPECT_EQ(chat_error(R"({"model":"m","messages":[{"role":"user","content":"x"}],
                           "max_tokens":2,"max_completion_tokens":2})")
                .param(),
            "max_completion_tokens");
}

TEST(OpenAiRequestTest, ClassifyInputs) {
  const ClassifyRequest one = parse_classify_request(R"({"model": "m", "input": "hi"})");
  ASSERT_EQ(one.inputs.size(), 1u);
  EXPECT_EQ(one.inputs[0].at(""), "hi");
  const ClassifyRequest many =
      parse_classify_request(R"({"model": "m", "input": ["a", {"q": "b", "c": "d"}]})");
  ASSERT_EQ(many.inputs.size(), 2u);
  EXPECT_EQ(many.inputs[1].at("c"), "d");
  auto param = [](const std::string& body) {
    try {
      parse_classify_request(body);
    } catch (const ApiError& e) {
      return e.param();
    }
    return std::string("accepted");
  };
  EXPECT_EQ(param(R"({"model": "m"})"), "input");
  EXPECT_EQ(param(R"({"model": "m", "input": []})"), "input");
  EXPECT_EQ(param(R"({"model": "m", "input": [1]})"), "input[0]");
  EXPECT_EQ(param(R"({"model": "m", "input": [{"q": 1}]})"), "input[0].q");
  EXPECT_EQ(param(R"({"model": "m", "input": "x", "top": 2})"), "top");
  std::string many_inputs = R"({"model": "m", "input": ["x")";
  for (size_t i = 0; i < kMaxClassifyInputs; ++i) many_inputs += ",\"x\"";
  EXPECT_EQ(param(many_inputs + "]}"), "input");
}

TEST(OpenAiRequestTest, AdapterRequests) {
  const AdapterRequest r = parse_adapter_request(R"({"name": "a", "path": "/p"})");
  EXPECT_EQ(r.name, "a");
  EXPECT_EQ(r.path, "/p");
  for (const std::string& body :
       {std::string(R"({"name": "a"})"), std::string(R"({"name": "", "path": "/p"})"),
        std::string(R"({"name": "a", "path": "/p", "extra": 1})")}) {
    EXPECT_THROW(parse_adapter_request(body), ApiError) << body;
  }
}

TEST(OpenAiResponseTest, ErrorBodyIsOpenAisShape) {
  const json body = invalid_request("max_tokens", "too many").body();
  EXPECT_EQ(body["error"]["message"], "too many");
  EXPECT_EQ(body["error"]["type"], "invalid_request_error");
  EXPECT_EQ(body["error"]["param"], "max_tokens");
  EXPECT_TRUE(body["error"]["code"].is_null());
}

TEST(OpenAiResponseTest, BodiesAndChunks) {
  Choice c;
  c.text = "hi";
  c.finish_reason = "length";
  const json chat = chat_body("id1", 5, "m", c, {3, 2});
  EXPECT_EQ(chat["object"], "chat.completion");
  EXPECT_EQ(chat["choices"][0]["message"]["content"], "hi");
  EXPECT_EQ(chat["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(chat["usage"]["total_tokens"], 5);
  c.with_logprobs = true;
  c.logprobs = {{"h", -0.5, {{"h", -0.5}, {"x", -1.5}}}, {"i", -0.25, {}}};
  const json done = completion_body("id2", 5, "m", c, {3, 2});
  EXPECT_EQ(done["object"], "text_completion");
  EXPECT_EQ(done["choices"][0]["logprobs"]["tokens"], json({"h", "i"}));
  EXPECT_EQ(done["choices"][0]["logprobs"]["text_offset"], json({0, 1}));
  EXPECT_DOUBLE_EQ(done["choices"][0]["logprobs"]["top_logprobs"][0]["x"].get<double>(), -1.5);
  const json opening = chat_chunk("id", 5, "m", "assistant", "", "");
  EXPECT_EQ(opening["choices"][0]["delta"], json({{"role", "assistant"}}));
  EXPECT_TRUE(opening["choices"][0]["finish_reason"].is_null());
  const json last = chat_chunk("id", 5, "m", std::nullopt, "", "stop");
  EXPECT_EQ(last["choices"][0]["delta"], json::object());
  EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
  // A token that ends mid-character still makes valid JSON text.
  EXPECT_EQ(sse_event(completion_chunk("id", 5, "m", "\xC3", "")).rfind("data: {", 0), 0u);
  EXPECT_NE(sse_event(completion_chunk("id", 5, "m", "\xC3", "")).find("\xEF\xBF\xBD"),
            std::string::npos);
}

}  // namespace
}  // namespace ptune::serve
