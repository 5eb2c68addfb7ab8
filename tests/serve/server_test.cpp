// `ptune serve`'s HTTP side on a loopback port, with a tiny model and two adapters (a continuous
// one and a discrete one): every route, streaming, every error code, concurrent mixed-adapter
// requests equal to the same requests one at a time, cancellation when a stream's client goes
// away, and stop() draining in-flight requests.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "ptune/client/openai_client.h"
#include "ptune/eval/evaluator.h"
#include "ptune/eval/remote_eval.h"
#include "ptune/generate/generator.h"
#include "ptune/serve/openai_api.h"
#include "ptune/serve/server.h"
#include "ptune/tasks/task.h"
#include "serve_fixture.h"

namespace ptune::serve {
namespace {

using nlohmann::json;

// A server on a free loopback port, listening on its own thread until the fixture ends.
class ServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions o = {}, std::vector<ServedAdapter> adapters = default_adapters(),
             const Model& model = test::serve_model()) {
    o.port = 0;
    o.model_id = "tiny";
    server_ = std::make_unique<Server>(model, test::serve_tokenizer(), std::move(adapters), o);
    server_->bind();
    thread_ = std::thread([this] { server_->listen(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(120, 0);
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  // "soft": the prefix-tuning adapter PEFT saved for the tiny llama's dimensions (3 virtual
  // tokens); "hard": a discrete prompt file.
  static std::vector<ServedAdapter> default_adapters() {
    std::vector<ServedAdapter> out;
    out.push_back(soft_adapter());
    const std::string file = ::testing::TempDir() + "/hard_prompt.json";
    std::ofstream(file) << R"({"format": "ptune-discrete-prompt", "version": 1,
                              "text": "Answer kindly.", "placement": "prefix"})";
    out.push_back(load_served_adapter("hard", file, test::serve_model()));
    return out;
  }
  static ServedAdapter soft_adapter() {
    return load_served_adapter("soft", test::data_path("peft/prefix_tuning"), test::serve_model());
  }

  httplib::Result post(const std::string& path, const json& body,
                       const httplib::Headers& headers = {}) {
    return client_->Post(path.c_str(), headers, body.dump(), "application/json");
  }
  json post_ok(const std::string& path, const json& body) {
    auto r = post(path, body);
    EXPECT_TRUE(r) << httplib::to_string(r.error());
    if (!r) return json();
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body);
  }
  // The error body of a request that must fail with `status`.
  json post_error(const std::string& path, const std::string& body, int status) {
    auto r = client_->Post(path.c_str(), body, "application/json");
    EXPECT_TRUE(r);
    if (!r) return json();
    EXPECT_EQ(r->status, status) << body << " -> " << r->body;
    const json j = json::parse(r->body, nullptr, false);
    EXPECT_TRUE(j.contains("error")) << r->body;
    return j.value("error", json::object());
  }

  // What generate() gives for `text` alone (greedy), after `adapter`'s keys/values if any, as
  // JSON carries it: the random model emits bytes that are not UTF-8, which become U+FFFD.
  static std::string alone(const std::string& text, int max_tokens,
                           const PastKV* adapter = nullptr) {
    GenerateOptions o;
    o.max_tokens = max_tokens;
    const std::string raw = generate(test::serve_model(), test::serve_tokenizer(),
                                     test::serve_tokenizer().encode(text), o, nullptr, adapter)
                                .text;
    return json::parse(to_json_text(json(raw))).get<std::string>();
  }

  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
};

// A two-label task over the tiny model's byte vocabulary, its data in a temporary folder.
ServedTask tiny_task(const std::string& model_id) {
  const std::string dir = ::testing::TempDir() + "/serve_task";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/train.jsonl") << "{\"text\": \"nice\", \"label\": \"pos\"}\n"
                                      << "{\"text\": \"awful\", \"label\": \"neg\"}\n";
  std::ofstream(dir + "/test.jsonl") << "{\"text\": \"fine\", \"label\": \"pos\"}\n";
  std::ofstream(dir + "/task.json") << R"({"name": "tiny-sentiment", "type": "classification",
      "template": "{demos}T: {text}\nL:", "labels": {"pos": ["good", "fine"], "neg": "bad"},
      "data": {"train": "train.jsonl", "test": "test.jsonl"},
      "few_shot": {"k": 2, "template": "T: {text}\nL: {target}", "separator": "\n"}})";
  return load_served_task(model_id, dir + "/task.json");
}

// `ptune eval --endpoint` against this server: echo scoring (auto finds it) gives the local
// evaluation's label scores, through an adapter, with contextual calibration's content-free
// prompts scored the same way.
TEST_F(ServerTest, RemoteEvalEqualsLocalEval) {
  start();
  const std::string dir = ::testing::TempDir() + "/remote_task";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/train.jsonl") << "{\"text\": \"nice\", \"label\": \"pos\"}\n"
                                      << "{\"text\": \"awful\", \"label\": \"neg\"}\n";
  std::ofstream test(dir + "/test.jsonl");
  for (const char* t : {"fine", "dire", "lovely", "poor", "ok", "x"}) {
    test << "{\"text\": \"" << t << "\", \"label\": \"" << (t[0] < 'm' ? "pos" : "neg") << "\"}\n";
  }
  test.close();
  std::ofstream(dir + "/task.json") << R"({"name": "tiny-remote", "type": "classification",
      "template": "{demos}T: {text}\nL:", "labels": {"pos": ["good", "fine"], "neg": "bad"},
      "data": {"train": "train.jsonl", "test": "test.jsonl"},
      "scoring": {"calibration": true},
      "few_shot": {"k": 2, "template": "T: {text}\nL: {target}", "separator": "\n"}})";
  const tasks::TaskSpec task = tasks::load_task(dir + "/task.json");
  const tasks::TaskData data = tasks::load_task_data(task);
  const ServedAdapter soft = soft_adapter();
  eval::EvalOptions local;
  local.scorer.base = soft.state.get();
  const eval::EvalResult want =
      eval::run_eval(task, data, test::serve_model(), test::serve_tokenizer(), local);

  client::ClientOptions co;
  co.endpoint = "http://127.0.0.1:" + std::to_string(server_->port());
  co.concurrency = 3;
  client::OpenAiClient api(co);
  eval::RemoteEvalOptions ro;
  ro.model = "soft";
  const eval::EvalResult got = eval::run_remote_eval(task, data, api, eval::EvalOptions{}, ro);
  EXPECT_EQ(got.summary["remote"]["scoring"], "echo");
  ASSERT_EQ(got.records.size(), want.records.size());
  for (size_t i = 0; i < want.records.size(); ++i) {
    EXPECT_EQ(got.records[i]["prediction"], want.records[i]["prediction"]) << i;
    for (const auto& [label, s] : want.records[i]["label_scores"].items()) {
      EXPECT_NEAR(got.records[i]["label_scores"][label]["score"].get<double>(),
                  s["score"].get<double>(), 1e-4)
          << i << " " << label;
      EXPECT_NEAR(got.records[i]["label_scores"][label]["prob"].get<double>(),
                  s["prob"].get<double>(), 1e-4)
          << i << " " << label;
    }
  }
  EXPECT_EQ(got.summary["metrics"]["accuracy"], want.summary["metrics"]["accuracy"]);
  // Every example and candidate is one call, and the content-free prompts are scored too.
  EXPECT_GT(api.stats().calls, static_cast<int64_t>(want.records.size() * 3));
}

TEST_F(ServerTest, ClassifyGivesEvalsLabelProbabilities) {
  std::vector<ServedTask> tasks;
  tasks.push_back(tiny_task("tiny"));
  tasks.push_back(tiny_task("soft"));
  ServerOptions o;
  o.port = 0;
  o.model_id = "tiny";
  server_ = std::make_unique<Server>(test::serve_model(), test::serve_tokenizer(),
                                     default_adapters(), o, std::move(tasks));
  server_->bind();
  thread_ = std::thread([this] { server_->listen(); });
  client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());

  const json r = post_ok("/v1/classify", {{"model", "soft"}, {"input", {"lovely", "dire"}}});
  ASSERT_EQ(r["data"].size(), 2u);
  // The same texts through eval::classify with the adapter's keys/values.
  const ServedTask task = tiny_task("soft");
  const ServedAdapter soft = soft_adapter();
  eval::EvalOptions eo;
  eo.scorer.base = soft.state.get();
  std::vector<tasks::Example> inputs(2);
  inputs[0].fields = {{"text", "lovely"}};
  inputs[1].fields = {{"text", "dire"}};
  const auto want = eval::classify(task.task, task.data, test::serve_model(),
                                   test::serve_tokenizer(), inputs, eo);
  for (size_t i = 0; i < 2; ++i) {
    const json& d = r["data"][i];
    EXPECT_EQ(d["label"], want[i].labels[0].first);
    ASSERT_EQ(d["labels"].size(), 2u);
    for (size_t l = 0; l < 2; ++l) {
      EXPECT_EQ(d["labels"][l]["label"], want[i].labels[l].first);
      EXPECT_NEAR(d["labels"][l]["probability"].get<double>(), want[i].labels[l].second, 1e-9);
    }
  }
  // An object input names the field; the base model's own task answers too.
  EXPECT_EQ(
      post_ok("/v1/classify", {{"model", "tiny"}, {"input", {{{"text", "ok"}}}}})["data"].size(),
      1u);
  EXPECT_EQ(post_error("/v1/classify", R"({"model":"hard","input":"x"})", 400)["param"], "model");
  EXPECT_EQ(post_error("/v1/classify", R"({"model":"tiny","input":[{"txt":"x"}]})", 400)["param"],
            "input[0]");
  EXPECT_EQ(post_error("/v1/classify", R"({"model":"tiny","input":[]})", 400)["param"], "input");
  EXPECT_NE(json::parse(client_->Get("/v1/models")->body).dump().find("tiny-sentiment"),
            std::string::npos);
}

TEST_F(ServerTest, AdaptersAreAddedAndRemovedAtRunTimeWithinTheBudget) {
  ServerOptions o;
  // The served prefix adapter (3 virtual tokens, 2 layers, 2 KV heads, head_dim 8) is 768
  // bytes; the budget leaves room for one more of that size, not two.
  o.adapter_memory_bytes = 2 * 768;
  start(o);
  const std::string path = test::data_path("peft/prefix_tuning");
  auto added = post("/v1/adapters", {{"name", "soft2"}, {"path", path}});
  ASSERT_TRUE(added);
  EXPECT_EQ(added->status, 201) << added->body;
  EXPECT_EQ(json::parse(added->body)["ptune"]["bytes"], 768);
  // Served at once, with the same output as the adapter loaded at start.
  const json a =
      post_ok("/v1/completions",
              {{"model", "soft"}, {"prompt", "Hi"}, {"max_tokens", 6}, {"temperature", 0}});
  const json b =
      post_ok("/v1/completions",
              {{"model", "soft2"}, {"prompt", "Hi"}, {"max_tokens", 6}, {"temperature", 0}});
  EXPECT_EQ(a["choices"][0]["text"], b["choices"][0]["text"]);
  // Past the budget, a used name, a bad path: refused, naming why.
  const json over = post_error("/v1/adapters", json{{"name", "soft3"}, {"path", path}}.dump(), 409);
  EXPECT_NE(over["message"].get<std::string>().find("budget"), std::string::npos);
  EXPECT_EQ(post_error("/v1/adapters", json{{"name", "soft"}, {"path", path}}.dump(), 409)["param"],
            "name");
  EXPECT_EQ(post_error("/v1/adapters", R"({"name": "x", "path": "/nonexistent"})", 400)["param"],
            "path");
  EXPECT_EQ(post_error("/v1/adapters", R"({"name": "bad name!", "path": "/x"})", 400)["param"],
            "path");
  // Removed: gone from the list and from requests, and its memory is free again.
  auto removed = client_->Delete("/v1/adapters/soft2");
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->status, 200);
  EXPECT_EQ(json::parse(client_->Get("/v1/models")->body)["data"].size(), 3u);
  post_error("/v1/completions", R"({"model": "soft2", "prompt": "x"})", 404);
  EXPECT_EQ(client_->Delete("/v1/adapters/soft2")->status, 404);
  auto again = post("/v1/adapters", {{"name", "soft3"}, {"path", path}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 201);
}

TEST_F(ServerTest, HealthModelsAndMetrics) {
  start();
  auto h = client_->Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto m = client_->Get("/v1/models");
  ASSERT_TRUE(m);
  const json models = json::parse(m->body);
  ASSERT_EQ(models["data"].size(), 3u);
  EXPECT_EQ(models["data"][0]["id"], "tiny");
  EXPECT_EQ(models["data"][1]["id"], "hard");
  EXPECT_EQ(models["data"][2]["id"], "soft");
  post_ok("/v1/completions", {{"model", "tiny"}, {"prompt", "hi"}, {"max_tokens", 3}});
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("ptune_requests_total{route=\"/v1/completions\",code=\"200\"} 1"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("ptune_generated_tokens_total 3"), std::string::npos);
  EXPECT_NE(metrics->body.find("ptune_adapters 2"), std::string::npos);
}

TEST_F(ServerTest, CompletionsEqualGenerateForEachModelId) {
  start();
  const json base =
      post_ok("/v1/completions",
              {{"model", "tiny"}, {"prompt", "Hello"}, {"max_tokens", 8}, {"temperature", 0}});
  EXPECT_EQ(base["choices"][0]["text"], alone("Hello", 8));
  EXPECT_EQ(base["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(base["usage"]["completion_tokens"], 8);
  EXPECT_EQ(base["usage"]["prompt_tokens"], 5);

  const ServedAdapter soft = soft_adapter();
  ASSERT_NE(soft.state, nullptr);
  const json tuned =
      post_ok("/v1/completions",
              {{"model", "soft"}, {"prompt", "Hello"}, {"max_tokens", 8}, {"temperature", 0}});
  EXPECT_EQ(tuned["choices"][0]["text"], alone("Hello", 8, soft.state.get()));
  EXPECT_EQ(tuned["model"], "soft");

  const json hard =
      post_ok("/v1/completions",
              {{"model", "hard"}, {"prompt", "Hello"}, {"max_tokens", 8}, {"temperature", 0}});
  EXPECT_EQ(hard["choices"][0]["text"], alone("Answer kindly.\n\nHello", 8));

  const json echoed = post_ok("/v1/completions", {{"model", "tiny"},
                                                  {"prompt", "Hello"},
                                                  {"max_tokens", 8},
                                                  {"temperature", 0},
                                                  {"echo", true}});
  EXPECT_EQ(echoed["choices"][0]["text"], "Hello" + alone("Hello", 8));
}

// Scoring a text as lm-evaluation-harness does against OpenAI-style servers: echo, logprobs,
// max_tokens 0. The prompt's token log-probs equal the scorer's, through an adapter too, across
// prefill chunks.
TEST_F(ServerTest, EchoWithLogprobsScoresThePrompt) {
  ServerOptions o;
  o.engine.prefill_chunk = 4;  // "Hello world" spans three chunks
  start(o);
  const Tokenizer& tok = test::serve_tokenizer();
  for (const std::string model : {"tiny", "soft"}) {
    const json r = post_ok("/v1/completions", {{"model", model},
                                               {"prompt", "Hello world"},
                                               {"max_tokens", 0},
                                               {"echo", true},
                                               {"logprobs", 1}});
    const json& choice = r["choices"][0];
    EXPECT_EQ(choice["text"], "Hello world");
    EXPECT_EQ(choice["finish_reason"], "length");
    EXPECT_EQ(r["usage"]["completion_tokens"], 0);
    const json& lp = choice["logprobs"];
    const std::vector<int32_t> ids = tok.encode("Hello world");
    const size_t bos = ids.size() - tok.encode("Hello world", false).size();
    ASSERT_EQ(lp["tokens"].size(), ids.size() - bos);
    EXPECT_EQ(lp["text_offset"][0], 0);
    EXPECT_EQ(lp["text_offset"][6], 6);
    // The scorer's log-probs of every token after the first of the text.
    const ServedAdapter soft = soft_adapter();
    eval::ScorerOptions so;
    if (model == "soft") so.base = soft.state.get();
    eval::ContinuationScorer scorer(test::serve_model(), so);
    const size_t head = bos + 1;
    const auto scores = scorer.score({{std::vector<int32_t>(ids.begin(), ids.begin() + head),
                                       {std::vector<int32_t>(ids.begin() + head, ids.end())}}});
    const std::vector<double>& want = scores[0][0].token_logprobs;
    for (size_t t = 1; t < lp["token_logprobs"].size(); ++t) {
      EXPECT_NEAR(lp["token_logprobs"][t].get<double>(), want[t - 1], 1e-4) << model << " " << t;
      EXPECT_EQ(lp["top_logprobs"][t].size(), 1u);
    }
    if (bos == 0) {
      EXPECT_TRUE(lp["token_logprobs"][0].is_null());
    }
  }
}

TEST_F(ServerTest, ChatGoesThroughTheTemplateAndLogprobsAreConsistent) {
  start();
  const json r =
      post_ok("/v1/chat/completions", {{"model", "tiny"},
                                       {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                                       {"max_tokens", 5},
                                       {"temperature", 0},
                                       {"logprobs", true},
                                       {"top_logprobs", 2}});
  EXPECT_EQ(r["object"], "chat.completion");
  EXPECT_EQ(r["choices"][0]["message"]["content"],
            alone("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", 5));
  const json& content = r["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 5u);
  for (const json& t : content) {
    ASSERT_EQ(t["top_logprobs"].size(), 2u);
    // Greedy: the chosen token is the best one.
    EXPECT_EQ(t["token"], t["top_logprobs"][0]["token"]);
    EXPECT_DOUBLE_EQ(t["logprob"].get<double>(), t["top_logprobs"][0]["logprob"].get<double>());
    EXPECT_LE(t["logprob"].get<double>(), 0.0);
  }
}

// The text of an SSE stream's chunks, and whether it ended with [DONE].
struct Stream {
  std::string text, finish_reason;
  bool done = false;
  bool usage = false;
};
Stream read_stream(const std::string& body, bool chat) {
  Stream s;
  size_t at = 0;
  while ((at = body.find("data: ", at)) != std::string::npos) {
    const size_t end = body.find("\n\n", at);
    const std::string data = body.substr(at + 6, end - at - 6);
    at = end;
    if (data == "[DONE]") {
      s.done = true;
      continue;
    }
    const json chunk = json::parse(data);
    if (chunk.contains("usage")) s.usage = true;
    if (chunk["choices"].empty()) continue;
    const json& c = chunk["choices"][0];
    s.text += chat ? c["delta"].value("content", "") : c["text"].get<std::string>();
    if (!c["finish_reason"].is_null()) s.finish_reason = c["finish_reason"];
  }
  return s;
}

TEST_F(ServerTest, StreamsAsServerSentEvents) {
  start();
  auto r = post("/v1/chat/completions", {{"model", "soft"},
                                         {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                                         {"max_tokens", 12},
                                         {"temperature", 0},
                                         {"stream", true},
                                         {"stream_options", {{"include_usage", true}}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  const Stream s = read_stream(r->body, true);
  const json whole =
      post_ok("/v1/chat/completions", {{"model", "soft"},
                                       {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                                       {"max_tokens", 12},
                                       {"temperature", 0}});
  EXPECT_EQ(s.text, whole["choices"][0]["message"]["content"]);
  EXPECT_EQ(s.finish_reason, "length");
  EXPECT_TRUE(s.done);
  EXPECT_TRUE(s.usage);
  EXPECT_EQ(r->body.find("data: {"), 0u);
  EXPECT_NE(r->body.find("\"role\":\"assistant\""), std::string::npos);

  auto c = post("/v1/completions", {{"model", "tiny"},
                                    {"prompt", "abc"},
                                    {"max_tokens", 6},
                                    {"temperature", 0},
                                    {"stream", true}});
  ASSERT_TRUE(c);
  EXPECT_EQ(read_stream(c->body, false).text, alone("abc", 6));
}

TEST_F(ServerTest, EveryErrorHasOpenAisShapeAndTheRightStatus) {
  ServerOptions o;
  o.max_body_bytes = 4096;
  start(o);
  EXPECT_EQ(post_error("/v1/completions", "{not json", 400)["type"], "invalid_request_error");
  EXPECT_EQ(
      post_error("/v1/completions", R"({"model":"tiny","prompt":"x","max_token":3})", 400)["param"],
      "max_token");
  const json missing = post_error("/v1/completions", R"({"model":"nope","prompt":"x"})", 404);
  EXPECT_EQ(missing["code"], "model_not_found");
  const json too_many =
      post_error("/v1/completions", R"({"model":"tiny","prompt":"x","max_tokens":100000})", 400);
  EXPECT_EQ(too_many["param"], "max_tokens");
  EXPECT_NE(too_many["message"].get<std::string>().find("context length"), std::string::npos);
  const std::string huge = R"({"model":"tiny","prompt":")" + std::string(10000, 'a') + "\"}";
  post_error("/v1/completions", huge, 413);
  post_error("/v1/nothing", "{}", 404);
  const std::string long_prompt =
      R"({"model":"tiny","prompt":")" + std::string(300, 'a') + R"(","max_tokens":1})";
  EXPECT_EQ(post_error("/v1/completions", long_prompt, 400)["param"], "prompt");
  // The server is still up after all of that.
  post_ok("/v1/completions", {{"model", "tiny"}, {"prompt", "x"}, {"max_tokens", 1}});
}

TEST_F(ServerTest, ApiKeyIsRequiredWhenSet) {
  ServerOptions o;
  o.api_key = "s3cret";
  start(o);
  auto no_key = client_->Get("/v1/models");
  ASSERT_TRUE(no_key);
  EXPECT_EQ(no_key->status, 401);
  EXPECT_EQ(json::parse(no_key->body)["error"]["code"], "invalid_api_key");
  auto wrong = client_->Get("/v1/models", {{"Authorization", "Bearer s3creT"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto right = client_->Get("/v1/models", {{"Authorization", "Bearer s3cret"}});
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200);
  EXPECT_EQ(client_->Get("/health")->status, 200);  // health needs no key
}

TEST_F(ServerTest, ConcurrentMixedAdapterRequestsEqualSequentialOnes) {
  start();
  const std::vector<std::pair<std::string, std::string>> jobs = {
      {"tiny", "one"},  {"soft", "two"}, {"hard", "three"}, {"soft", "four four"},
      {"tiny", "five"}, {"hard", "six"}, {"soft", "seven"}, {"tiny", "eight"}};
  auto body = [&](size_t i) {
    return json{{"model", jobs[i].first},
                {"prompt", jobs[i].second},
                {"max_tokens", 10 + static_cast<int>(i)},
                {"temperature", 0}};
  };
  std::vector<std::string> sequential;
  for (size_t i = 0; i < jobs.size(); ++i) {
    sequential.push_back(post_ok("/v1/completions", body(i))["choices"][0]["text"]);
  }
  std::vector<std::string> concurrent(jobs.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < jobs.size(); ++i) {
    threads.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", server_->port());
      c.set_read_timeout(120, 0);
      auto r = c.Post("/v1/completions", body(i).dump(), "application/json");
      if (r && r->status == 200) concurrent[i] = json::parse(r->body)["choices"][0]["text"];
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(concurrent, sequential);
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->body.find("ptune_decode_batch_max 1\n"), std::string::npos)
      << "the concurrent requests never shared a forward";
}

TEST_F(ServerTest, FullQueueAnswers429WithRetryAfter) {
  ServerOptions o;
  o.engine.max_sequences = 1;
  o.engine.max_queue = 0;
  start(o);
  std::thread busy([&] {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(120, 0);
    c.Post("/v1/completions", R"({"model":"tiny","prompt":"busy","max_tokens":200})",
           "application/json");
  });
  // Wait until the long request runs, then another is refused.
  for (int i = 0; i < 200; ++i) {
    auto m = client_->Get("/metrics");
    if (m && m->body.find("ptune_sequences_running 1") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto r = client_->Post("/v1/completions", R"({"model":"tiny","prompt":"x","max_tokens":1})",
                         "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429) << r->body;
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  EXPECT_EQ(json::parse(r->body)["error"]["type"], "rate_limit_error");
  busy.join();
}

TEST_F(ServerTest, AClientThatLeavesAStreamCancelsItsSequence) {
  // A wider model, so that 240 tokens take long enough (about a second) for the client's
  // hang-up to arrive while the sequence still runs.
  test::TinyLlama wide = test::serve_model_spec();
  wide.n_embd = 512;
  wide.n_ff = 1024;
  wide.n_layer = 6;
  wide.n_head = 8;
  start({}, {}, test::tiny_model(wide));
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = R"({"model":"tiny","prompt":"leave","max_tokens":240,"stream":true})";
  req.set_header("Content-Type", "application/json");
  int chunks = 0;
  req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++chunks < 1; };
  client_->send(req);  // returns once the receiver says stop, closing the connection
  bool cancelled = false;
  for (int i = 0; i < 500 && !cancelled; ++i) {
    auto m = client_->Get("/metrics");
    cancelled = m && m->body.find("ptune_sequences_cancelled_total 1") != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(cancelled);
  auto m = client_->Get("/metrics");
  ASSERT_TRUE(m);
  // It stopped well before its 240 tokens.
  const std::string counter = "\nptune_generated_tokens_total ";
  const size_t at = m->body.find(counter);
  ASSERT_NE(at, std::string::npos);
  EXPECT_LT(std::stoll(m->body.substr(at + counter.size())), 240);
}

// stop() before listen() has begun: listen() returns at once instead of serving for ever (a
// SIGTERM that arrives while the server is still starting).
TEST(ServerStopTest, StopBeforeListenEndsIt) {
  ServerOptions o;
  o.port = 0;
  o.model_id = "tiny";
  Server server(test::serve_model(), test::serve_tokenizer(), {}, o);
  server.bind();
  server.stop();
  std::thread listener([&] { server.listen(); });
  listener.join();
  SUCCEED();
}

TEST_F(ServerTest, StopDrainsInFlightRequests) {
  start();
  std::vector<int> status(3, 0);
  std::vector<std::string> text(3);
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", server_->port());
      c.set_read_timeout(120, 0);
      auto r = c.Post("/v1/completions",
                      json{{"model", "tiny"},
                           {"prompt", "drain " + std::to_string(i)},
                           {"max_tokens", 60},
                           {"temperature", 0}}
                          .dump(),
                      "application/json");
      if (r) {
        status[i] = r->status;
        text[i] = json::parse(r->body)["choices"][0]["text"];
      }
    });
  }
  for (int i = 0; i < 300; ++i) {
    auto m = client_->Get("/metrics");
    if (m && m->body.find("ptune_sequences_running 3") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  server_->stop();
  for (auto& t : threads) t.join();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(status[i], 200) << i;
    EXPECT_EQ(text[i], alone("drain " + std::to_string(i), 60)) << i;
  }
}

}  // namespace
}  // namespace ptune::serve
