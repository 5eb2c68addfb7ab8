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

GenerateResult generate(const Model& model, const Tokenizer& tokenizer,
                        const std::vector<int32_t>& prompt, const GenerateOptions& opt,
                        const TextCallback& on_text, const PastKV* prefix) {
  torch::InferenceMode inference;
  GenerateResult r;
  r.prompt_tokens = static_cast<int64_t>(prompt.size());
  if (prompt.empty()) throw std::invalid_argument("generate: the prompt is empty");
  // The prompt (after an adapter's tokens) must leave room for one generated token; generation
  // then stops at the context's end ("length"), where llama.cpp stops too.
  const int64_t n_ctx = model.config().n_ctx_train;
  const int64_t used = (prefix ? prefix->length() : 0) + static_cast<int64_t>(prompt.size());
  if (n_ctx > 0 && used >= n_ctx) {
    throw std::invalid_argument(
        "generate: the prompt is " + std::to_string(prompt.size()) + " tokens" +
        (prefix ? " after " + std::to_string(prefix->length()) + " adapter tokens"
                : std::string()) +
        ", which leaves no room in the model's context length of " + std::to_string(n_ctx));
  }
  Sampler sampler(opt.sampling);
  StreamingText stream(opt.stop);
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
  r.finish_reason = "length";
  for (int i = 0; i < opt.max_tokens; ++i) {
    // Sampling from NaN logits would quietly emit token 0 for ever.
    if (!torch::isfinite(logits).all().item<bool>()) {
      throw std::runtime_error("generate: the model's logits are NaN or Inf at generated token " +
                               std::to_string(i) + " (check the model and adapter weights)");
    }
    int32_t id = sampler.sample(logits);
    r.tokens.push_back(id);
    if (opt.stop_at_end_of_generation && tokenizer.is_end_of_generation(id)) {
      r.finish_reason = "stop";
      break;
    }
    emit(stream.push(tokenizer.token_to_bytes(id)));
    if (stream.stopped()) {
      r.finish_reason = "stop";
      break;
    }
    // Prompt + generated tokens stay within the context (HF's max_length = n_ctx).
    if (i + 1 == opt.max_tokens || (n_ctx > 0 && cache.length() + 1 >= n_ctx)) break;
    ForwardArgs step;
    step.input_ids = torch::tensor({static_cast<int64_t>(id)}, torch::kInt64).view({1, 1});
    step.past = &cache;
    step.return_present = true;
    step.logits_at = LogitsAt::Last;
    ForwardResult sr = model.forward(step);
    cache = std::move(sr.present);
    logits = sr.logits[0];
  }
  emit(stream.flush());
  r.text = stream.text();
  r.decode_seconds = seconds_since(t1);
  return r;
}

}  // namespace ptune
