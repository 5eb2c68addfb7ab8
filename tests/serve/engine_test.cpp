// The batching engine: sequences of different adapters, prompt lengths and arrival times decoded
// together give what each gives alone; cancellation, the queue bound and drain.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "ptune/generate/generator.h"
#include "ptune/serve/engine.h"
#include "ptune/serve/prefix_cache.h"
#include "serve_fixture.h"

namespace ptune::serve {
namespace {

// Collects one sequence's events (on the engine thread) for a test to wait on.
struct Collector {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<int32_t> tokens;
  std::vector<TokenDecoder::Step> prompt;  // prompt_logprobs: the prompt's scored tokens
  std::string text, finish_reason, error;
  bool done = false;

  std::function<void(const SequenceEvent&)> callback() {
    return [this](const SequenceEvent& e) {
      std::lock_guard<std::mutex> lock(mutex);
      text += e.step.text;
      prompt.insert(prompt.end(), e.prompt.begin(), e.prompt.end());
      if (e.final) {
        finish_reason = e.finish_reason;
        error = e.error;
        done = true;
        cv.notify_all();
      } else {
        tokens.push_back(e.step.token);
        cv.notify_all();
      }
    };
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(120), [this] { return done; }));
  }
  void wait_for_tokens(size_t n) {
    std::unique_lock<std::mutex> lock(mutex);
    ASSERT_TRUE(
        cv.wait_for(lock, std::chrono::seconds(120), [&] { return tokens.size() >= n || done; }));
  }
};

std::vector<int32_t> ids_of(const std::string& text) {
  return test::serve_tokenizer().encode(text, /*add_special=*/false);
}

TEST(EngineTest, MixedAdaptersBatchedEqualOneAtATime) {
  const Model& model = test::serve_model();
  const Tokenizer& tok = test::serve_tokenizer();
  const std::vector<std::shared_ptr<const PastKV>> adapters = {
      nullptr, test::random_adapter(model, 3, 1), test::random_adapter(model, 9, 2)};
  struct Job {
    std::string prompt;
    int adapter;
    float temperature;
  };
  const std::vector<Job> jobs = {{"Hello there", 0, 0},
                                 {"A", 1, 0},
                                 {"A much longer prompt that spans chunks", 2, 0},
                                 {"Route this message", 1, 0.9f},
                                 {"x", 2, 0.7f},
                                 {"Same as the first", 0, 0},
                                 {"Short", 2, 0}};
  // Four running at once and prefill chunks of 5 tokens: sequences wait, join mid-decode, leave
  // at different steps, and long prompts prefill across iterations.
  Engine engine(model, tok, {/*max_sequences=*/4, /*max_queue=*/16, /*prefill_chunk=*/5});
  std::vector<std::unique_ptr<Collector>> got;
  for (size_t i = 0; i < jobs.size(); ++i) {
    got.push_back(std::make_unique<Collector>());
    SequenceRequest r;
    r.prompt = ids_of(jobs[i].prompt);
    r.prefix = adapters[jobs[i].adapter];
    r.options.max_tokens = 6 + static_cast<int>(i) * 3;
    r.options.sampling.temperature = jobs[i].temperature;
    r.options.sampling.seed = 100 + i;
    r.on_event = got.back()->callback();
    engine.submit(std::move(r));
  }
  for (size_t i = 0; i < jobs.size(); ++i) {
    got[i]->wait();
    GenerateOptions o;
    o.max_tokens = 6 + static_cast<int>(i) * 3;
    o.sampling.temperature = jobs[i].temperature;
    o.sampling.seed = 100 + i;
    const GenerateResult alone =
        generate(model, tok, ids_of(jobs[i].prompt), o, nullptr, adapters[jobs[i].adapter].get());
    EXPECT_EQ(got[i]->error, "");
    EXPECT_EQ(got[i]->tokens, alone.tokens) << "job " << i;
    EXPECT_EQ(got[i]->text, alone.text) << "job " << i;
    EXPECT_EQ(got[i]->finish_reason, alone.finish_reason) << "job " << i;
  }
  const EngineStats s = engine.stats();
  EXPECT_EQ(s.finished, static_cast<int64_t>(jobs.size()));
  EXPECT_GT(s.max_batch, 1);  // rows really shared forwards
  EXPECT_LE(s.max_batch, 4);
  EXPECT_EQ(s.running, 0);
}

// Runs one sequence to its end on `engine` and returns what it produced.
std::unique_ptr<Collector> run_one(Engine& engine, const std::string& prompt,
                                   std::shared_ptr<const PastKV> adapter, int max_tokens,
                                   bool score_prompt = false) {
  auto c = std::make_unique<Collector>();
  SequenceRequest r;
  r.prompt = ids_of(prompt);
  r.prefix = std::move(adapter);
  r.options.max_tokens = max_tokens;
  r.options.sampling.temperature = 0;
  r.prompt_logprobs = score_prompt;
  r.top_logprobs = score_prompt ? 2 : -1;
  r.on_event = c->callback();
  engine.submit(std::move(r));
  c->wait();
  return c;
}

// A prompt that starts as an earlier one did, under the same adapter, runs only its new tokens
// and gives what it gives alone: its generated tokens and, when scored, its prompt's log-probs.
TEST(EngineTest, IdenticalPromptHeadsAreComputedOnce) {
  const Model& model = test::serve_model();
  const Tokenizer& tok = test::serve_tokenizer();
  const auto adapter = test::random_adapter(model, 3, 7);
  const std::string head = "You route support messages. Message: ";
  Engine cached(model, tok, {4, 16, 8});
  Engine plain(model, tok, {4, 16, 8, /*prefix_cache_mib=*/0});
  run_one(cached, head + "my card is lost", adapter, 4);
  const auto second = run_one(cached, head + "refund please", adapter, 6);
  EngineStats st = cached.stats();
  EXPECT_EQ(st.prefix_hits, 1);
  EXPECT_GE(st.prefix_reused_tokens, static_cast<int64_t>(ids_of(head).size()) - 1);
  EXPECT_GT(st.prefix_cache_bytes, 0);
  GenerateOptions o;
  o.max_tokens = 6;
  o.sampling.temperature = 0;
  EXPECT_EQ(second->tokens,
            generate(model, tok, ids_of(head + "refund please"), o, nullptr, adapter.get()).tokens);

  // Another adapter (or none) does not reuse this adapter's keys/values.
  run_one(cached, head + "refund please", nullptr, 2);
  EXPECT_EQ(cached.stats().prefix_hits, 1);

  // Scoring: the second text's prompt log-probs equal those of an engine without the cache.
  run_one(cached, head + "where is my parcel", adapter, 0, /*score_prompt=*/true);
  const auto scored = run_one(cached, head + "where is my money", adapter, 0, true);
  const auto want = run_one(plain, head + "where is my money", adapter, 0, true);
  EXPECT_EQ(cached.stats().prefix_hits, 2);
  EXPECT_EQ(scored->finish_reason, "length");
  EXPECT_TRUE(scored->tokens.empty());
  ASSERT_EQ(scored->prompt.size(), ids_of(head + "where is my money").size() - 1);
  ASSERT_EQ(want->prompt.size(), scored->prompt.size());
  for (size_t t = 0; t < want->prompt.size(); ++t) {
    EXPECT_EQ(scored->prompt[t].token, want->prompt[t].token) << t;
    EXPECT_NEAR(scored->prompt[t].logprob, want->prompt[t].logprob, 1e-4) << t;
    ASSERT_EQ(scored->prompt[t].top.size(), 2u);
    EXPECT_EQ(scored->prompt[t].top[0].first, want->prompt[t].top[0].first) << t;
  }
}

// Short prompts waiting together prefill in one forward, rows of different adapters and cache
// lengths side by side, and each gets what it gets alone: its tokens and its prompt's scores.
TEST(EngineTest, ShortPromptsPrefillTogetherAsTheyWouldAlone) {
  const Model& model = test::serve_model();
  const Tokenizer& tok = test::serve_tokenizer();
  const std::vector<std::shared_ptr<const PastKV>> adapters = {
      nullptr, test::random_adapter(model, 3, 1), test::random_adapter(model, 9, 2)};
  const std::vector<std::string> prompts = {"Hi", "Refund please",      "x", "Where is my card?",
                                            "ok", "Cancel my order now"};
  Engine plain(model, tok, {8, 16, 256, /*prefix_cache_mib=*/0});
  std::vector<std::unique_ptr<Collector>> alone;
  for (size_t i = 0; i < prompts.size(); ++i) {
    alone.push_back(run_one(plain, prompts[i], adapters[i % 3], 5, /*score_prompt=*/i % 2 == 1));
  }
  Engine engine(model, tok, {8, 16, 256, 0});
  std::vector<std::unique_ptr<Collector>> got;
  for (size_t i = 0; i < prompts.size(); ++i) {
    got.push_back(std::make_unique<Collector>());
    SequenceRequest r;
    r.prompt = ids_of(prompts[i]);
    r.prefix = adapters[i % 3];
    r.options.max_tokens = 5;
    r.options.sampling.temperature = 0;
    r.prompt_logprobs = i % 2 == 1;
    r.top_logprobs = r.prompt_logprobs ? 2 : -1;
    r.on_event = got.back()->callback();
    engine.submit(std::move(r));
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    got[i]->wait();
    EXPECT_EQ(got[i]->error, "");
    EXPECT_EQ(got[i]->tokens, alone[i]->tokens) << prompts[i];
    ASSERT_EQ(got[i]->prompt.size(), alone[i]->prompt.size()) << prompts[i];
    for (size_t t = 0; t < got[i]->prompt.size(); ++t) {
      EXPECT_NEAR(got[i]->prompt[t].logprob, alone[i]->prompt[t].logprob, 1e-4) << prompts[i];
    }
  }
  const EngineStats st = engine.stats();
  EXPECT_GT(st.prefill_rows, st.prefill_forwards);  // some forward prefilled several prompts
}

TEST(PrefixCacheTest, EvictsLeastRecentlyUsedUnderItsBudget) {
  const Model& model = test::serve_model();
  const auto kv = [&](int64_t n) {  // keys/values of n random positions
    return *test::random_adapter(model, n, n);
  };
  PrefixCache one(1 << 30);
  one.insert(nullptr, std::vector<int32_t>(8, 1), kv(8), {}, -1);
  ASSERT_GT(one.bytes(), 0);
  PrefixCache c(3 * one.bytes());  // room for three entries of 8 positions
  for (int32_t first = 1; first <= 4; ++first) {
    std::vector<int32_t> tokens(8, first);
    c.insert(nullptr, tokens, kv(8), {}, -1);
  }
  EXPECT_EQ(c.entries(), 3u);  // the first was evicted
  std::vector<int32_t> probe(8, 1);
  probe.push_back(9);
  EXPECT_FALSE(c.find(nullptr, probe, -1));
  probe.assign(8, 2);
  probe.push_back(9);
  const auto hit = c.find(nullptr, probe, -1);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->tokens, 8u);
  EXPECT_EQ(hit->kv.length(), 8);
  // Scoring lookups need scored entries.
  EXPECT_FALSE(c.find(nullptr, probe, 0));
  // An entry extended by a newer one is replaced by it; the larger entry then evicts the least
  // recently used (8 x 3) to stay in budget.
  c.insert(nullptr, std::vector<int32_t>(12, 2), kv(12), {}, -1);
  EXPECT_EQ(c.entries(), 2u);
  EXPECT_LE(c.bytes(), 3 * one.bytes());
  probe.assign(8, 3);
  probe.push_back(9);
  EXPECT_FALSE(c.find(nullptr, probe, -1));
}

TEST(EngineTest, StopStringsEndASequenceAsGenerateDoes) {
  const Model& model = test::serve_model();
  const Tokenizer& tok = test::serve_tokenizer();
  GenerateOptions o;
  o.max_tokens = 40;
  const std::string free_text = generate(model, tok, ids_of("stop test"), o).text;
  ASSERT_GE(free_text.size(), 6u);
  o.stop = {free_text.substr(3, 2)};
  const GenerateResult alone = generate(model, tok, ids_of("stop test"), o);
  Engine engine(model, tok, {});
  Collector c;
  SequenceRequest r;
  r.prompt = ids_of("stop test");
  r.options = o;
  r.on_event = c.callback();
  engine.submit(std::move(r));
  c.wait();
  EXPECT_EQ(c.finish_reason, "stop");
  EXPECT_EQ(c.text, alone.text);
  EXPECT_EQ(c.text.find(o.stop[0]), std::string::npos);
}

TEST(EngineTest, CancelledSequenceLeavesAndOthersGoOn) {
  const Model& model = test::serve_model();
  const Tokenizer& tok = test::serve_tokenizer();
  Engine engine(model, tok, {});
  Collector cancelled, other;
  auto flag = std::make_shared<std::atomic<bool>>(false);
  SequenceRequest a;
  a.prompt = ids_of("to be cancelled");
  a.options.max_tokens = 200;
  a.cancelled = flag;
  a.on_event = cancelled.callback();
  SequenceRequest b;
  b.prompt = ids_of("keeps going");
  b.options.max_tokens = 30;
  b.on_event = other.callback();
  engine.submit(std::move(a));
  engine.submit(std::move(b));
  cancelled.wait_for_tokens(3);
  flag->store(true);
  cancelled.wait();
  other.wait();
  EXPECT_EQ(cancelled.finish_reason, "cancelled");
  EXPECT_LT(cancelled.tokens.size(), 200u);
  EXPECT_EQ(other.finish_reason, "length");
  EXPECT_EQ(other.tokens.size(), 30u);
  EXPECT_EQ(engine.stats().cancelled, 1);
}

TEST(EngineTest, FullQueueIsRefusedAndDrainFinishesTheRest) {
  const Model& model = test::serve_model();
  const Tokenizer& tok = test::serve_tokenizer();
  Engine engine(model, tok, {/*max_sequences=*/1, /*max_queue=*/1, /*prefill_chunk=*/64});
  std::vector<std::unique_ptr<Collector>> accepted;
  int refused = 0;
  for (int i = 0; i < 4; ++i) {
    auto c = std::make_unique<Collector>();
    SequenceRequest r;
    r.prompt = ids_of("queued " + std::to_string(i));
    r.options.max_tokens = 100;
    r.on_event = c->callback();
    try {
      engine.submit(std::move(r));
      accepted.push_back(std::move(c));
    } catch (const QueueFullError& e) {
      ++refused;
      EXPECT_NE(std::string(e.what()).find("queue is full"), std::string::npos);
    }
  }
  // One runs and one waits at most, so of four sent at once at least two are refused.
  EXPECT_GE(refused, 2);
  engine.drain();
  for (auto& c : accepted) {
    std::lock_guard<std::mutex> lock(c->mutex);
    EXPECT_TRUE(c->done);
    EXPECT_EQ(c->finish_reason, "length");
    EXPECT_EQ(c->tokens.size(), 100u);
  }
  SequenceRequest late;
  late.prompt = ids_of("late");
  EXPECT_THROW(engine.submit(std::move(late)), std::runtime_error);  // draining
}

TEST(EngineTest, PromptsThatDoNotFitAreRefusedAtSubmit) {
  const Model& model = test::serve_model();
  Engine engine(model, test::serve_tokenizer(), {});
  SequenceRequest empty;
  EXPECT_THROW(engine.submit(std::move(empty)), std::invalid_argument);
  SequenceRequest long_one;
  long_one.prompt.assign(static_cast<size_t>(model.config().n_ctx_train), 65);
  try {
    engine.submit(std::move(long_one));
    FAIL() << "accepted a prompt as long as the context";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("context length"), std::string::npos) << e.what();
  }
}

TEST(EngineTest, GenerationEndsAtTheContextsEnd) {
  const Model& model = test::serve_model();
  const int64_t n_ctx = model.config().n_ctx_train;
  Engine engine(model, test::serve_tokenizer(), {});
  Collector c;
  SequenceRequest r;
  r.prompt.assign(static_cast<size_t>(n_ctx - 5), 66);
  r.prefix = test::random_adapter(model, 2, 3);
  r.options.max_tokens = 100;
  r.on_event = c.callback();
  engine.submit(std::move(r));
  c.wait();
  EXPECT_EQ(c.finish_reason, "length");
  EXPECT_EQ(static_cast<int64_t>(c.tokens.size()), 3);  // 2 + (n_ctx - 5) + 3 = n_ctx
}

}  // namespace
}  // namespace ptune::serve
