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

// Called with each new piece of text as soon as it is complete UTF-8 and cannot be the start
// of a stop string.
using TextCallback = std::function<void(const std::string&)>;

// `prefix` (optional) is prepended past keys/values, e.g. a prefix-tuning adapter.
GenerateResult generate(const Model& model, const Tokenizer& tokenizer,
                        const std::vector<int32_t>& prompt, const GenerateOptions& options,
                        const TextCallback& on_text = nullptr, const PastKV* prefix = nullptr);

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

}  // namespace ptune
