// Continuous batching with a tuned prompt per row (see engine.h for the contract).
#include "ptune/serve/engine.h"

#include <algorithm>
#include <stdexcept>

namespace ptune::serve {

struct Engine::Sequence {
  SequenceRequest request;
  std::unique_ptr<TokenDecoder> decoder;
  PastKV cache;            // while prefilling: [1, Hkv, cached, D] per layer
  size_t prefilled = 0;    // prompt tokens run so far
  int64_t cached = 0;      // real keys this sequence has (adapter + prompt + fed tokens)
  int32_t next_token = 0;  // fed at the next decode step
  bool finished = false;
  torch::Tensor carry;  // prompt_logprobs: log-probs [V] after the last prefilled token
  std::vector<TokenDecoder::Step> prompt_steps;

  bool cancelled() const { return request.cancelled && request.cancelled->load(); }
};

namespace {

// `past` [B, Hkv, P, D] and `mask` [B, P] padded on the left to length L >= P with masked keys.
void left_pad(PastKV& past, torch::Tensor& mask, int64_t L) {
  const int64_t pad = L - past.length();
  if (pad <= 0) return;
  for (auto* layer : {&past.keys, &past.values}) {
    for (torch::Tensor& t : *layer) {
      auto zeros = torch::zeros({t.size(0), t.size(1), pad, t.size(3)}, t.options());
      t = torch::cat({zeros, t}, 2);
    }
  }
  mask = torch::cat({torch::zeros({mask.size(0), pad}, mask.options()), mask}, 1);
}

// The log-probability of each of `ids` [n] from the log-probs `lp` [n, V] before it (row j
// predicts ids[j]), with the `top` best alternatives.
std::vector<TokenDecoder::Step> scored_tokens(const torch::Tensor& lp,
                                              const std::vector<int32_t>& ids, int top) {
  std::vector<TokenDecoder::Step> out(ids.size());
  const torch::Tensor index = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()));
  const torch::Tensor chosen = lp.gather(1, index.unsqueeze(1)).squeeze(1);
  torch::Tensor best_values, best_ids;
  if (top > 0) std::tie(best_values, best_ids) = lp.topk(std::min<int64_t>(top, lp.size(1)), 1);
  for (size_t j = 0; j < ids.size(); ++j) {
    out[j].token = ids[j];
    out[j].logprob = chosen[j].item<double>();
    for (int64_t k = 0; top > 0 && k < best_ids.size(1); ++k) {
      out[j].top.emplace_back(static_cast<int32_t>(best_ids[j][k].item<int64_t>()),
                              best_values[j][k].item<double>());
    }
  }
  return out;
}

// The alternatives a scored prompt keeps per token (-1: the prompt is not scored): what the
// prefix cache must hold for a head to be reused by it.
int scored_top(const SequenceRequest& r) {
  return r.prompt_logprobs ? std::max(0, r.top_logprobs) : -1;
}

}  // namespace

Engine::Engine(const Model& model, const Tokenizer& tokenizer, EngineOptions options)
    : model_(model),
      tokenizer_(tokenizer),
      options_(options),
      prefix_cache_(options.prefix_cache_mib << 20) {
  if (options_.max_sequences < 1 || options_.max_queue < 0 || options_.prefill_chunk < 1) {
    throw std::invalid_argument("engine: max_sequences and prefill_chunk must be at least 1");
  }
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() {
  drain();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Engine::submit(SequenceRequest request) {
  if (request.prompt.empty()) throw std::invalid_argument("the prompt is empty");
  const int64_t prefix = request.prefix ? request.prefix->length() : 0;
  const std::string too_long = context_error(static_cast<int64_t>(request.prompt.size()), prefix,
                                             model_.config().n_ctx_train);
  if (!too_long.empty()) throw std::invalid_argument(too_long);
  request.options.sampling.validate();
  auto s = std::make_unique<Sequence>();
  s->request = std::move(request);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (draining_) throw std::runtime_error("the server is shutting down");
    // A free running slot takes a request at once; beyond those, max_queue may wait.
    const int64_t free_slots = std::max<int64_t>(0, options_.max_sequences - stats_.running);
    if (static_cast<int64_t>(waiting_.size()) >= options_.max_queue + free_slots) {
      throw QueueFullError("the queue is full (" + std::to_string(options_.max_queue) +
                           " requests waiting)");
    }
    waiting_.push_back(std::move(s));
    stats_.waiting = static_cast<int64_t>(waiting_.size());
  }
  wake_.notify_all();
}

void Engine::drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  draining_ = true;
  idle_.wait(lock, [this] { return waiting_.empty() && stats_.running == 0; });
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

bool Engine::admit_locked() {
  bool any = false;
  while (!waiting_.empty() &&
         static_cast<int>(prefilling_.size() + batch_.size()) < options_.max_sequences) {
    auto& s = waiting_.front();
    s->decoder =
        std::make_unique<TokenDecoder>(tokenizer_, s->request.options, model_.config().n_ctx_train);
    prefilling_.push_back(std::move(s));
    waiting_.pop_front();
    ++stats_.admitted;
    ++stats_.running;
    any = true;
  }
  stats_.waiting = static_cast<int64_t>(waiting_.size());
  return any;
}

void Engine::loop() {
  torch::InferenceMode inference;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] {
        return stopping_ || !waiting_.empty() || !prefilling_.empty() || !batch_.empty();
      });
      if (stopping_ && waiting_.empty() && prefilling_.empty() && batch_.empty()) return;
      admit_locked();
    }
    prefill_one();
    decode_step();
    leave_finished();
    std::lock_guard<std::mutex> lock(mutex_);
    if (waiting_.empty() && stats_.running == 0) idle_.notify_all();
  }
}

void Engine::finish(Sequence& s, const std::string& error) {
  if (s.finished) return;
  s.finished = true;
  {
    // Counted before the client hears of it, so /metrics read after a response includes it.
    std::lock_guard<std::mutex> lock(mutex_);
    --stats_.running;
    ++stats_.finished;
    if (!error.empty()) ++stats_.failed;
    if (s.cancelled()) ++stats_.cancelled;
    stats_.generated_tokens += static_cast<int64_t>(s.decoder->tokens().size());
  }
  SequenceEvent done;
  done.final = true;
  done.error = error;
  if (error.empty()) {
    done.step.text = s.decoder->flush();
    done.finish_reason = s.cancelled() ? "cancelled" : s.decoder->finish_reason();
    done.prompt = std::move(s.prompt_steps);
  }
  if (s.request.on_event) s.request.on_event(done);
}

void Engine::prefill_one() {
  // Cancelled sequences still prefilling leave at once.
  for (auto it = prefilling_.begin(); it != prefilling_.end();) {
    if ((*it)->cancelled()) {
      finish(**it, "");
      it = prefilling_.erase(it);
    } else {
      ++it;
    }
  }
  if (prefilling_.empty()) return;
  // Prompts whose rest fits in one chunk together prefill in one forward (as many as fit in
  // prefill_chunk tokens); a longer one runs alone, a chunk at a time.
  std::vector<Sequence*> group;
  size_t tokens = 0;
  for (auto& p : prefilling_) {
    Sequence& s = *p;
    if (s.prefilled == 0 && s.cache.empty()) reuse_cached_head(s);
    const size_t rest = s.request.prompt.size() - s.prefilled;
    if (!group.empty() && (tokens + rest > static_cast<size_t>(options_.prefill_chunk) ||
                           group.size() >= kMaxPrefillRows)) {
      break;
    }
    group.push_back(&s);
    tokens += rest;
    if (rest > static_cast<size_t>(options_.prefill_chunk)) break;  // alone, chunk by chunk
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.prefill_forwards;
    stats_.prefill_rows += static_cast<int64_t>(group.size());
  }
  try {
    if (group.size() == 1) {
      prefill_chunk(*group[0]);
    } else {
      prefill_together(group);
    }
  } catch (const std::exception& e) {
    for (Sequence* s : group) finish(*s, e.what());
  }
  // Finished sequences leave; those whose prompt is in go to the decode batch.
  for (auto it = prefilling_.begin(); it != prefilling_.end();) {
    Sequence& s = **it;
    if (s.finished) {
      it = prefilling_.erase(it);
    } else if (s.prefilled == s.request.prompt.size()) {
      join_batch(std::move(*it));
      it = prefilling_.erase(it);
    } else {
      ++it;
    }
  }
}

void Engine::prefill_chunk(Sequence& s) {
  const auto& prompt = s.request.prompt;
  const size_t n =
      std::min(prompt.size() - s.prefilled, static_cast<size_t>(options_.prefill_chunk));
  const bool last = s.prefilled + n == prompt.size();
  ForwardArgs args;
  args.input_ids = torch::tensor(std::vector<int64_t>(prompt.begin() + s.prefilled,
                                                      prompt.begin() + s.prefilled + n),
                                 torch::kInt64)
                       .unsqueeze(0);
  args.past = s.cache.empty() ? s.request.prefix.get() : &s.cache;
  args.return_present = true;
  const bool scoring = s.request.prompt_logprobs;
  args.logits_at = scoring ? LogitsAt::All : (last ? LogitsAt::Last : LogitsAt::None);
  ForwardResult fr = model_.forward(args);
  s.cache = std::move(fr.present);
  if (scoring) score_prompt_chunk(s, fr.logits[0], n);
  s.prefilled += n;
  s.cached = s.cache.length();
  if (last) end_prefill(s, scoring ? fr.logits[0][n - 1] : fr.logits[0]);
}

void Engine::prefill_together(const std::vector<Sequence*>& group) {
  // Row i: its keys/values so far (the adapter's, a cached head's), left-padded to P, then its
  // remaining prompt tokens, right-padded to T; padding is masked out of attention, and each
  // row's positions count only its real keys, so a row computes what it computes alone.
  const int64_t B = static_cast<int64_t>(group.size());
  std::vector<const PastKV*> pasts;
  std::vector<int64_t> past_len, rest;
  int64_t P = 0, T = 0;
  const PastKV* shape_of = nullptr;
  bool scoring = false;
  for (Sequence* s : group) {
    const PastKV* past = s->cache.empty() ? s->request.prefix.get() : &s->cache;
    pasts.push_back(past);
    past_len.push_back(past ? past->length() : 0);
    rest.push_back(static_cast<int64_t>(s->request.prompt.size() - s->prefilled));
    P = std::max(P, past_len.back());
    T = std::max(T, rest.back());
    if (past && !past->empty()) shape_of = past;
    scoring = scoring || s->request.prompt_logprobs;
  }
  std::vector<int64_t> ids(static_cast<size_t>(B * T), 0);
  torch::Tensor mask = torch::zeros({B, P + T}, torch::kInt64);
  for (int64_t i = 0; i < B; ++i) {
    const auto& prompt = group[i]->request.prompt;
    std::copy(prompt.begin() + group[i]->prefilled, prompt.end(), ids.begin() + i * T);
    mask[i].narrow(0, P - past_len[i], past_len[i]).fill_(1);
    mask[i].narrow(0, P, rest[i]).fill_(1);
  }
  PastKV past;
  if (P > 0) {
    for (size_t l = 0; l < shape_of->keys.size(); ++l) {
      std::vector<torch::Tensor> keys, values;
      for (int64_t i = 0; i < B; ++i) {
        const torch::Tensor& ref = shape_of->keys[l];
        auto zeros = [&](int64_t n) {
          return torch::zeros({1, ref.size(1), n, ref.size(3)}, ref.options());
        };
        const int64_t pad = P - past_len[i];
        keys.push_back(past_len[i] ? torch::cat({zeros(pad), pasts[i]->keys[l]}, 2) : zeros(P));
        values.push_back(past_len[i] ? torch::cat({zeros(pad), pasts[i]->values[l]}, 2) : zeros(P));
      }
      past.keys.push_back(torch::cat(keys, 0));
      past.values.push_back(torch::cat(values, 0));
    }
  }
  ForwardArgs args;
  args.input_ids = torch::tensor(ids, torch::kInt64).view({B, T});
  args.attention_mask = mask;
  args.past = P > 0 ? &past : nullptr;
  args.return_present = true;
  args.logits_at = scoring ? LogitsAt::All : LogitsAt::Positions;
  if (!scoring) args.logit_positions = (torch::tensor(rest, torch::kInt64) - 1).view({B, 1});
  ForwardResult fr = model_.forward(args);
  for (int64_t i = 0; i < B; ++i) {
    Sequence& s = *group[i];
    // The row's real keys/values: [1, Hkv, past + rest, D].
    const torch::Tensor real = mask[i].nonzero().squeeze(1);
    PastKV row;
    for (const torch::Tensor& t : fr.present.keys)
      row.keys.push_back(t[i].unsqueeze(0).index_select(2, real));
    for (const torch::Tensor& t : fr.present.values)
      row.values.push_back(t[i].unsqueeze(0).index_select(2, real));
    s.cache = std::move(row);
    const torch::Tensor logits = scoring ? fr.logits[i].narrow(0, 0, rest[i]) : fr.logits[i][0];
    if (s.request.prompt_logprobs) score_prompt_chunk(s, logits, static_cast<size_t>(rest[i]));
    s.prefilled = s.request.prompt.size();
    s.cached = s.cache.length();
    end_prefill(s, scoring ? logits[rest[i] - 1] : logits);
  }
}

void Engine::end_prefill(Sequence& s, const torch::Tensor& last_logits) {
  const auto& prompt = s.request.prompt;
  prefix_cache_.insert(s.request.prefix, prompt, s.cache, s.prompt_steps, scored_top(s.request));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.prompt_tokens += static_cast<int64_t>(prompt.size());
    stats_.prefix_cache_bytes = prefix_cache_.bytes();
  }
  if (s.request.options.max_tokens == 0) {
    finish(s, "");
    return;
  }
  try {
    SequenceEvent ev;
    ev.step = s.decoder->next(last_logits, s.cached, s.request.top_logprobs);
    ev.prompt = std::move(s.prompt_steps);
    if (s.request.on_event) s.request.on_event(ev);
    if (s.decoder->done()) {
      finish(s, "");
    } else {
      s.next_token = ev.step.token;
    }
  } catch (const std::exception& e) {
    finish(s, e.what());
  }
}

void Engine::reuse_cached_head(Sequence& s) {
  std::optional<PrefixCache::Hit> hit =
      prefix_cache_.find(s.request.prefix, s.request.prompt, scored_top(s.request));
  if (!hit) return;
  s.cache = std::move(hit->kv);
  s.prefilled = hit->tokens;
  s.prompt_steps = std::move(hit->steps);
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.prefix_hits;
  stats_.prefix_reused_tokens += static_cast<int64_t>(hit->tokens);
}

void Engine::score_prompt_chunk(Sequence& s, const torch::Tensor& logits, size_t n) {
  // Row j of this chunk predicts prompt token prefilled + j + 1; the chunk's first token is
  // predicted by the previous chunk's last row (`carry`), and the prompt's first by nothing.
  const torch::Tensor lp = torch::log_softmax(logits.to(torch::kFloat32), -1);  // [n, V]
  const auto& prompt = s.request.prompt;
  std::vector<torch::Tensor> rows;
  if (s.carry.defined()) rows.push_back(s.carry.unsqueeze(0));
  if (n > 1) rows.push_back(lp.narrow(0, 0, static_cast<int64_t>(n) - 1));
  // Without a carry (the prompt's start, or after a reused head) the chunk's first token is
  // predicted by a row this engine did not compute: it is scored already, or is token 0.
  const size_t first = s.carry.defined() ? s.prefilled : s.prefilled + 1;
  if (!rows.empty()) {
    const std::vector<int32_t> ids(prompt.begin() + first, prompt.begin() + s.prefilled + n);
    auto steps = scored_tokens(torch::cat(rows, 0), ids, std::max(0, s.request.top_logprobs));
    s.prompt_steps.insert(s.prompt_steps.end(), steps.begin(), steps.end());
  }
  s.carry = lp[static_cast<int64_t>(n) - 1];
}

void Engine::join_batch(std::unique_ptr<Sequence> s) {
  torch::Tensor mask = torch::ones({1, s->cached}, torch::kInt64);
  PastKV cache = std::move(s->cache);
  s->cache = PastKV();
  if (batch_.empty()) {
    past_ = std::move(cache);
    mask_ = mask;
  } else {
    const int64_t L = std::max(past_.length(), cache.length());
    left_pad(past_, mask_, L);
    left_pad(cache, mask, L);
    for (size_t l = 0; l < past_.keys.size(); ++l) {
      past_.keys[l] = torch::cat({past_.keys[l], cache.keys[l]}, 0);
      past_.values[l] = torch::cat({past_.values[l], cache.values[l]}, 0);
    }
    mask_ = torch::cat({mask_, mask}, 0);
  }
  batch_.push_back(std::move(s));
}

void Engine::decode_step() {
  if (batch_.empty()) return;
  const int64_t B = static_cast<int64_t>(batch_.size());
  std::vector<int64_t> ids;
  for (const auto& s : batch_) ids.push_back(s->next_token);
  ForwardArgs args;
  args.input_ids = torch::tensor(ids, torch::kInt64).view({B, 1});
  mask_ = torch::cat({mask_, torch::ones({B, 1}, torch::kInt64)}, 1);
  args.attention_mask = mask_;
  args.past = &past_;
  args.return_present = true;
  args.logits_at = LogitsAt::Last;
  try {
    ForwardResult fr = model_.forward(args);
    past_ = std::move(fr.present);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.decode_steps;
      stats_.decode_rows += B;
      stats_.max_batch = std::max(stats_.max_batch, B);
    }
    for (int64_t i = 0; i < B; ++i) {
      Sequence& s = *batch_[i];
      ++s.cached;
      if (s.cancelled()) continue;  // leaves in leave_finished
      try {
        SequenceEvent ev;
        ev.step = s.decoder->next(fr.logits[i], s.cached, s.request.top_logprobs);
        if (s.request.on_event) s.request.on_event(ev);
        s.next_token = ev.step.token;
        if (s.decoder->done()) finish(s, "");
      } catch (const std::exception& e) {
        finish(s, e.what());
      }
    }
  } catch (const std::exception& e) {
    // The forward itself failed (e.g. out of memory): every row of this batch fails, named.
    for (auto& s : batch_) finish(*s, std::string("the batched forward failed: ") + e.what());
  }
}

void Engine::leave_finished() {
  std::vector<int64_t> keep;
  for (size_t i = 0; i < batch_.size(); ++i) {
    if (batch_[i]->cancelled()) finish(*batch_[i], "");
    if (!batch_[i]->finished) keep.push_back(static_cast<int64_t>(i));
  }
  if (keep.size() == batch_.size()) return;
  std::vector<std::unique_ptr<Sequence>> rows;
  for (int64_t i : keep) rows.push_back(std::move(batch_[i]));
  batch_ = std::move(rows);
  if (batch_.empty()) {
    past_ = PastKV();
    mask_ = torch::Tensor();
    return;
  }
  const torch::Tensor index = torch::tensor(keep, torch::kInt64);
  past_ = select_past_rows(past_, index);
  mask_ = mask_.index_select(0, index);
  // Columns no remaining row attends to (a long sequence that left) are dropped.
  const int64_t first = mask_.to(torch::kBool).any(0).to(torch::kInt64).argmax().item<int64_t>();
  if (first > 0) {
    for (auto* layer : {&past_.keys, &past_.values}) {
      for (torch::Tensor& t : *layer) t = t.narrow(2, first, t.size(2) - first);
    }
    mask_ = mask_.narrow(1, first, mask_.size(1) - first);
  }
}

}  // namespace ptune::serve
