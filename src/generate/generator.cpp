#include "ptune/generate/generator.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>

namespace ptune {

namespace {

// Length of the longest prefix of `s` that is complete UTF-8 (an incomplete trailing sequence is
// held back; invalid bytes pass through so they are not held forever).
size_t complete_utf8_prefix(const std::string& s) {
  size_t n = s.size();
  size_t back = 0;
  while (back < 4 && back < n) {
    unsigned char c = static_cast<unsigned char>(s[n - 1 - back]);
    if ((c & 0xC0) != 0x80) {  // a lead byte or ASCII
      size_t need = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 1;
      return back + 1 >= need ? n : n - back - 1;
    }
    ++back;
  }
  return n;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::string StreamingText::push(const std::string& bytes) {
  if (stopped_) return "";
  pending_ += bytes;
  size_t ok = complete_utf8_prefix(pending_);
  text_ += pending_.substr(0, ok);
  pending_.erase(0, ok);

  // A stop string may span pieces: search from where it could have started.
  size_t hold = 0;
  for (const std::string& s : stop_) {
    if (s.empty()) continue;
    size_t from = emitted_ >= s.size() ? emitted_ - s.size() + 1 : 0;
    size_t at = text_.find(s, from);
    if (at != std::string::npos) {
      text_.resize(at);
      stopped_ = true;
    }
  }
  if (!stopped_) {
    // Hold back the longest tail of text_ that is a proper prefix of a stop string.
    for (const std::string& s : stop_) {
      for (size_t len = std::min(s.size() - (s.empty() ? 0 : 1), text_.size()); len > hold; --len) {
        if (text_.compare(text_.size() - len, len, s, 0, len) == 0) {
          hold = len;
          break;
        }
      }
    }
  }
  size_t safe = std::max(emitted_, text_.size() - hold);
  std::string out = text_.substr(emitted_, safe - emitted_);
  emitted_ = safe;
  return out;
}

std::string StreamingText::flush() {
  if (!stopped_) text_ += pending_;
  pending_.clear();
  std::string out = emitted_ < text_.size() ? text_.substr(emitted_) : "";
  emitted_ = text_.size();
  return out;
}

std::string context_error(int64_t prompt_tokens, int64_t prefix_tokens, int64_t n_ctx) {
  if (n_ctx <= 0 || prefix_tokens + prompt_tokens < n_ctx) return "";
  return "the prompt is " + std::to_string(prompt_tokens) + " tokens" +
         (prefix_tokens ? " after " + std::to_string(prefix_tokens) + " adapter tokens"
                        : std::string()) +
         ", which leaves no room in the model's context length of " + std::to_string(n_ctx);
}

TokenDecoder::TokenDecoder(const Tokenizer& tokenizer, const GenerateOptions& options,
                           int64_t n_ctx)
    : tokenizer_(tokenizer),
      options_(options),
      n_ctx_(n_ctx),
      sampler_(options.sampling),
      stream_(options.stop) {}

TokenDecoder::Step TokenDecoder::next(const torch::Tensor& logits, int64_t cached,
                                      int top_logprobs) {
  // Sampling from NaN logits would quietly emit token 0 for ever.
  if (!torch::isfinite(logits).all().item<bool>()) {
    throw std::runtime_error("generate: the model's logits are NaN or Inf at generated token " +
                             std::to_string(tokens_.size()) +
                             " (check the model and adapter weights)");
  }
  Step step;
  step.token = sampler_.sample(logits);
  if (top_logprobs >= 0) {
    const torch::Tensor lp = torch::log_softmax(logits.to(torch::kFloat32), 0);
    step.logprob = lp[step.token].item<double>();
    if (top_logprobs > 0) {
      auto [values, ids] = lp.topk(std::min<int64_t>(top_logprobs, lp.size(0)));
      for (int64_t i = 0; i < ids.size(0); ++i) {
        step.top.emplace_back(static_cast<int32_t>(ids[i].item<int64_t>()),
                              values[i].item<double>());
      }
    }
  }
  tokens_.push_back(step.token);
  if (options_.stop_at_end_of_generation && tokenizer_.is_end_of_generation(step.token)) {
    finish_reason_ = "stop";
    done_ = true;
    return step;
  }
  step.text = stream_.push(tokenizer_.token_to_bytes(step.token));
  if (stream_.stopped()) {
    finish_reason_ = "stop";
    done_ = true;
  } else if (static_cast<int64_t>(tokens_.size()) >= options_.max_tokens ||
             (n_ctx_ > 0 && cached + 1 >= n_ctx_)) {
    // Prompt + generated tokens stay within the context (HF's max_length = n_ctx), where
    // llama.cpp stops too.
    done_ = true;
  }
  return step;
}

GenerateResult generate(const Model& model, const Tokenizer& tokenizer,
                        const std::vector<int32_t>& prompt, const GenerateOptions& opt,
                        const TextCallback& on_text, const PastKV* prefix) {
  torch::InferenceMode inference;
  GenerateResult r;
  r.prompt_tokens = static_cast<int64_t>(prompt.size());
  if (prompt.empty()) throw std::invalid_argument("generate: the prompt is empty");
  const int64_t n_ctx = model.config().n_ctx_train;
  const std::string too_long = context_error(r.prompt_tokens, prefix ? prefix->length() : 0, n_ctx);
  if (!too_long.empty()) throw std::invalid_argument("generate: " + too_long);
  TokenDecoder decoder(tokenizer, opt, n_ctx);
  auto emit = [&](const std::string& piece) {
    if (on_text && !piece.empty()) on_text(piece);
  };

  auto t0 = std::chrono::steady_clock::now();
  ForwardArgs args;
  args.input_ids =
      torch::tensor(std::vector<int64_t>(prompt.begin(), prompt.end()), torch::kInt64).unsqueeze(0);
  args.past = prefix;
  args.return_present = true;
  args.logits_at = LogitsAt::Last;
  ForwardResult fr = model.forward(args);
  r.prefill_seconds = seconds_since(t0);
  auto t1 = std::chrono::steady_clock::now();

  PastKV cache = std::move(fr.present);
  torch::Tensor logits = fr.logits[0];
  while (opt.max_tokens > 0) {
    const TokenDecoder::Step step = decoder.next(logits, cache.length());
    emit(step.text);
    if (decoder.done()) break;
    ForwardArgs next;
    next.input_ids = torch::tensor({static_cast<int64_t>(step.token)}, torch::kInt64).view({1, 1});
    next.past = &cache;
    next.return_present = true;
    next.logits_at = LogitsAt::Last;
    ForwardResult sr = model.forward(next);
    cache = std::move(sr.present);
    logits = sr.logits[0];
  }
  emit(decoder.flush());
  r.tokens = decoder.tokens();
  r.text = decoder.text();
  r.finish_reason = decoder.finish_reason();
  r.decode_seconds = seconds_since(t1);
  return r;
}

}  // namespace ptune
