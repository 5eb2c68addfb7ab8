// Autoregressive generation with a KV cache, sampling, stop strings and streaming.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ptune/generate/sampler.h"
#include "ptune/model/model.h"
#include "ptune/tokenizer/tokenizer.h"

namespace ptune {

struct GenerateOptions {
  int max_tokens = 256;
  SamplingParams sampling;
  std::vector<std::string> stop;  // generation ends before the first occurrence of any of these
  bool stop_at_end_of_generation = true;  // EOS / <|im_end|> and friends, from the tokenizer
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (the end-of-generation token included if hit)
  std::string text;             // generated text, cut before a stop string
  std::string finish_reason;    // "stop" (EOS or stop string) or "length"
  int64_t prompt_tokens = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;
};

// Splits a byte stream into complete UTF-8 text and holds back text that could still turn into
// a stop string. Exposed for tests.
class StreamingText {
 public:
  explicit StreamingText(std::vector<std::string> stop) : stop_(std::move(stop)) {}
  // Appends bytes; returns the text now safe to emit. Sets stopped() when a stop string appears.
  std::string push(const std::string& bytes);
  // Text still held back (partial UTF-8 is dropped as U+FFFD-free bytes at the end).
  std::string flush();
  bool stopped() const { return stopped_; }
  const std::string& text() const { return text_; }  // everything emitted or held, stop cut

 private:
  std::vector<std::string> stop_;
  std::string text_;     // complete text so far (cut at a stop string once found)
  size_t emitted_ = 0;   // bytes of text_ already returned
  std::string pending_;  // an incomplete UTF-8 sequence
  bool stopped_ = false;
};

// One sequence's decoding after its forward pass: sampling, end of generation, stop strings and
// the length limits. generate() runs one; `ptune serve`'s engine runs one per batch row, so both
// stop, cut and count the same way.
class TokenDecoder {
 public:
  TokenDecoder(const Tokenizer& tokenizer, const GenerateOptions& options, int64_t n_ctx);

  struct Step {
    int32_t token = 0;
    std::string text;    // text now safe to emit (empty while held back or after a stop)
    double logprob = 0;  // log p(token) under the model (with top_logprobs >= 0)
    std::vector<std::pair<int32_t, double>> top;  // the top_logprobs best, best first
  };
  // `logits` [V] for the next token; `cached` the tokens the sequence's keys/values hold (the
  // adapter's, the prompt's and those generated so far). Throws std::runtime_error for NaN/Inf
  // logits. Call only while !done().
  Step next(const torch::Tensor& logits, int64_t cached, int top_logprobs = -1);
  bool done() const { return done_; }
  // Text still held back; call once when done.
  std::string flush() { return stream_.flush(); }
  const std::vector<int32_t>& tokens() const { return tokens_; }
  const std::string& text() const { return stream_.text(); }
  const std::string& finish_reason() const { return finish_reason_; }

 private:
  const Tokenizer& tokenizer_;
  GenerateOptions options_;
  int64_t n_ctx_;
  Sampler sampler_;
  StreamingText stream_;
  std::vector<int32_t> tokens_;
  std::string finish_reason_ = "length";
  bool done_ = false;
};

// Called with each new piece of text as soon as it is complete UTF-8 and cannot be the start
// of a stop string.
using TextCallback = std::function<void(const std::string&)>;

// `prefix` (optional) is prepended past keys/values, e.g. a prefix-tuning adapter.
GenerateResult generate(const Model& model, const Tokenizer& tokenizer,
                        const std::vector<int32_t>& prompt, const GenerateOptions& options,
                        const TextCallback& on_text = nullptr, const PastKV* prefix = nullptr);

// The first error a prompt of `prompt_tokens` after `prefix_tokens` adapter tokens meets in a
// context of n_ctx (no room for one generated token), or "".
std::string context_error(int64_t prompt_tokens, int64_t prefix_tokens, int64_t n_ctx);

}  // namespace ptune
