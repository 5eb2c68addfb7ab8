// The serving engine: continuous batching of many sequences over one frozen model, each with its
// own tuned prompt.
//
// One thread runs the model. Each iteration it
//   1. admits waiting sequences while fewer than max_sequences run;
//   2. prefills one chunk (at most prefill_chunk tokens) of one admitted sequence, or the whole
//      rests of several short prompts together in one forward, after each one's adapter's
//      keys/values, so a long prompt never stalls the others' decodes for long; a
//      prompt whose head an earlier prompt under the same adapter had starts after that head's
//      cached keys/values (PrefixCache), so identical heads across requests run once;
//   3. runs one decode step over every sequence that is generating, in one forward.
// A sequence with max_tokens 0 ends after its prefill (scoring a prompt: prompt_logprobs).
// Rows of different adapters share that forward: every tuned prompt reduces to keys/values
// before the prompt (methods/trainable.h), so a row's adapter is part of its own cache. The
// batch's caches are left-aligned to one length with padding masked out (the position of each
// row's token counts only its real keys), so a row's tokens equal what generate() gives it
// alone, to float rounding.
//
// Sequences join and leave at step boundaries. A sequence whose Request::cancelled is set
// (a client that went away) leaves at the next step. drain() stops admitting and returns once
// every admitted sequence has finished.
//
// Shapes: B = running sequences, P = the batch's cache length, Hkv, D as in model.h.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ptune/generate/generator.h"
#include "ptune/model/model.h"
#include "ptune/serve/prefix_cache.h"
#include "ptune/tokenizer/tokenizer.h"

namespace ptune::serve {

struct EngineOptions {
  int max_sequences = 16;   // running at once (the decode batch)
  int max_queue = 64;       // waiting for a running slot; more is refused (HTTP 429)
  int prefill_chunk = 256;  // prompt tokens per prefill forward
  // Keys/values of prefilled prompts kept for prompts that start the same way (0 = off).
  int64_t prefix_cache_mib = 256;
};

// One event of a sequence, delivered on the engine thread (keep the callback short).
struct SequenceEvent {
  TokenDecoder::Step step;  // the token and the text now safe to emit
  bool final = false;       // the last event: finish_reason and the flushed text are set
  std::string finish_reason;
  std::string error;  // set (with final) when the sequence failed; nothing else is valid then
  // With SequenceRequest::prompt_logprobs, on the event that ends the prefill (the first token's,
  // or the final one when max_tokens is 0): prompt tokens 1.. with their log-probabilities and
  // best alternatives (token 0 has no context to be predicted from).
  std::vector<TokenDecoder::Step> prompt;
};

struct SequenceRequest {
  std::vector<int32_t> prompt;
  std::shared_ptr<const PastKV> prefix;  // the adapter's keys/values [1, Hkv, N, D]; may be null
  GenerateOptions options;
  int top_logprobs = -1;  // -1 = none
  // Score the prompt too (completions' echo with logprobs): SequenceEvent::prompt.
  bool prompt_logprobs = false;
  std::function<void(const SequenceEvent&)> on_event;
  std::shared_ptr<std::atomic<bool>> cancelled;  // may be null
};

// Counters for /metrics (a snapshot).
struct EngineStats {
  int64_t running = 0, waiting = 0;
  int64_t admitted = 0, finished = 0, cancelled = 0, failed = 0;
  int64_t prompt_tokens = 0, generated_tokens = 0;
  int64_t decode_steps = 0, decode_rows = 0;  // rows summed over steps (mean batch = rows/steps)
  int64_t max_batch = 0;
  int64_t prefill_forwards = 0, prefill_rows = 0;     // rows > forwards: prompts prefilled together
  int64_t prefix_hits = 0, prefix_reused_tokens = 0;  // prompt heads taken from the cache
  int64_t prefix_cache_bytes = 0;
};

class QueueFullError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Engine {
 public:
  Engine(const Model& model, const Tokenizer& tokenizer, EngineOptions options);
  ~Engine();  // drains
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a sequence. Throws QueueFullError when every slot runs and max_queue wait already,
  // std::invalid_argument
  // for an empty prompt or one that leaves no room in the context, std::runtime_error once
  // draining.
  void submit(SequenceRequest request);
  // Stops admitting new sequences and waits until every queued and running one has finished.
  void drain();
  EngineStats stats() const;
  const EngineOptions& options() const { return options_; }

 private:
  struct Sequence;
  void loop();
  bool admit_locked();
  // One prefill forward: the first prefilling sequence's next chunk, or several whole prompt
  // rests together; then those whose prompt is in join the decode batch.
  void prefill_one();
  void prefill_chunk(Sequence& s);
  void prefill_together(const std::vector<Sequence*>& group);
  // After a sequence's last prompt token: caches its head, emits its first token (from
  // `last_logits` [V]) or finishes it (max_tokens 0, a stop).
  void end_prefill(Sequence& s, const torch::Tensor& last_logits);
  static constexpr size_t kMaxPrefillRows = 16;
  // Starts `s` after the longest cached head of its prompt, if any (PrefixCache).
  void reuse_cached_head(Sequence& s);
  // Adds the log-probs of the chunk's prompt tokens (logits [n, V]) to s.prompt_steps.
  void score_prompt_chunk(Sequence& s, const torch::Tensor& logits, size_t n);
  void decode_step();
  void join_batch(std::unique_ptr<Sequence> s);
  void leave_finished();
  void finish(Sequence& s, const std::string& error);

  const Model& model_;
  const Tokenizer& tokenizer_;
  EngineOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<std::unique_ptr<Sequence>> waiting_;  // guarded by mutex_
  bool draining_ = false, stopping_ = false;       // guarded by mutex_
  EngineStats stats_;                              // guarded by mutex_

  // Engine thread only.
  std::vector<std::unique_ptr<Sequence>> prefilling_;
  std::vector<std::unique_ptr<Sequence>> batch_;  // rows of past_, in order
  PastKV past_;                                   // [B, Hkv, P, D] per layer
  torch::Tensor mask_;                            // [B, P] int64, 1 = real key
  PrefixCache prefix_cache_;

  std::thread thread_;
};

}  // namespace ptune::serve
