// The batching engine: sequences of different adapters, prompt lengths and arrival times decoded
// together give what each gives alone; cancellation, the queue bound and drain.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "ptune/generate/generator.h"
#include "ptune/serve/engine.h"
#include "serve_fixture.h"

namespace ptune::serve {
namespace {

// Collects one sequence's events (on the engine thread) for a test to wait on.
struct Collector {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<int32_t> tokens;
  std::string text, finish_reason, error;
  bool done = false;

  std::function<void(const SequenceEvent&)> callback() {
    return [this](const SequenceEvent& e) {
      std::lock_guard<std::mutex> lock(mutex);
      text += e.step.text;
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
