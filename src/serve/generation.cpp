// Completions and chat for `ptune serve` (contract in ptune/serve/server.h): a request becomes
// one engine sequence whose events reach the HTTP worker through a Channel, which the worker
// turns into one JSON body or an SSE stream.
#include <random>

#include "serve/server_impl.h"

namespace ptune::serve {

namespace {

TokenLogprob to_logprob(const Tokenizer& tok, const TokenDecoder::Step& s) {
  TokenLogprob t;
  t.token = tok.token_to_bytes(s.token);
  t.logprob = s.logprob;
  for (const auto& [id, lp] : s.top) t.top.emplace_back(tok.token_to_bytes(id), lp);
  return t;
}

// Echo's log-probs: the client's prompt tokens, from `steps` (prompt tokens 1.., as the engine
// scored them); a prompt that starts the sequence has a first token nothing predicts (null).
std::vector<TokenLogprob> prompt_logprobs(const Tokenizer& tok, const Prepared& p,
                                          const std::vector<TokenDecoder::Step>& steps) {
  std::vector<TokenLogprob> out;
  for (size_t g = p.prompt_from; g < p.ids.size(); ++g) {
    if (g == 0) {
      TokenLogprob first;
      first.token = tok.token_to_bytes(p.ids[0]);
      out.push_back(first);
    } else {
      out.push_back(to_logprob(tok, steps.at(g - 1)));
    }
  }
  return out;
}

}  // namespace

Prepared Server::Impl::prepare_completion(const std::string& body) const {
  const CompletionRequest r = parse_completion_request(body);
  Prepared p;
  p.model = r.model;
  p.adapter = adapter_for(r.model);
  p.sampling = r.sampling;
  // The adapter's text and the client's prompt are encoded apart, so the prompt's tokens are
  // known (echo with logprobs returns exactly theirs).
  const std::string before = p.adapter ? p.adapter->artifact.place_in("") : "";
  p.ids = tok.encode(before.empty() ? "" : before + "\n\n");
  p.prompt_from = p.ids.size();
  const std::vector<int32_t> prompt = tok.encode(r.prompt, /*add_special=*/false);
  p.ids.insert(p.ids.end(), prompt.begin(), prompt.end());
  if (r.echo) p.echo = r.prompt;
  return p;
}

Prepared Server::Impl::prepare_chat(const std::string& body) const {
  const ChatRequest r = parse_chat_request(body);
  if (!chat_template) {
    throw ApiError(400, "invalid_request_error",
                   "this model has no chat template ptune can apply (" + chat_template_error +
                       "); use /v1/completions",
                   "messages");
  }
  Prepared p;
  p.chat = true;
  p.model = r.model;
  p.adapter = adapter_for(r.model);
  p.sampling = r.sampling;
  std::vector<ChatMessage> messages;
  for (const ChatRequestMessage& m : r.messages) messages.push_back({m.role, m.content});
  if (p.adapter && p.adapter->artifact.discrete) {
    // A discrete prompt goes into the system message, as `ptune chat --adapter` puts it.
    if (messages.front().role == "system") {
      messages.front().content = p.adapter->artifact.place_in(messages.front().content);
    } else {
      messages.insert(messages.begin(), {"system", p.adapter->artifact.place_in("")});
    }
  }
  p.ids = tok.encode(chat_template->render_marked(messages, true));
  return p;
}

SequenceRequest Server::Impl::sequence_for(const Prepared& p) const {
  SequenceRequest s;
  s.prompt = p.ids;
  if (p.adapter) s.prefix = p.adapter->state;
  const int64_t n_ctx = model.config().n_ctx_train;
  const int64_t used = static_cast<int64_t>(p.ids.size()) + (s.prefix ? s.prefix->length() : 0);
  if (n_ctx > 0 && used >= n_ctx) {
    throw invalid_request(p.chat ? "messages" : "prompt",
                          context_error(p.ids.size(), used - p.ids.size(), n_ctx));
  }
  const int64_t room = n_ctx > 0 ? n_ctx - used : kMaxRequestTokens;
  if (p.sampling.max_tokens && *p.sampling.max_tokens > room) {
    throw invalid_request("max_tokens", "this model's context length is " + std::to_string(n_ctx) +
                                            " tokens; the request uses " + std::to_string(used) +
                                            " and asks for " +
                                            std::to_string(*p.sampling.max_tokens) +
                                            " more (at most " + std::to_string(room) + ")");
  }
  s.options.max_tokens = static_cast<int>(p.sampling.max_tokens.value_or(room));
  s.options.sampling.temperature = static_cast<float>(p.sampling.temperature);
  s.options.sampling.top_p = static_cast<float>(p.sampling.top_p);
  s.options.sampling.seed = p.sampling.seed ? *p.sampling.seed : std::random_device{}();
  s.options.stop = p.sampling.stop;
  s.top_logprobs = p.sampling.top_logprobs;
  s.prompt_logprobs = !p.echo.empty() && p.sampling.top_logprobs >= 0;
  return s;
}

void Server::Impl::generate(const httplib::Request& req, httplib::Response& res, bool chat) {
  const Clock::time_point t0 = Clock::now();
  authorize(req);
  if (draining) throw ApiError(503, "server_error", "the server is shutting down");
  const Prepared p = chat ? prepare_chat(req.body) : prepare_completion(req.body);
  SequenceRequest s = sequence_for(p);
  auto ch = std::make_shared<Channel>();
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  s.cancelled = cancelled;
  s.on_event = [ch](const SequenceEvent& e) { ch->push(e); };
  try {
    engine.submit(std::move(s));
  } catch (const QueueFullError& e) {
    throw ApiError(429, "rate_limit_error", std::string(e.what()) + "; retry later");
  } catch (const std::invalid_argument& e) {
    throw invalid_request(chat ? "messages" : "prompt", e.what());
  } catch (const std::runtime_error& e) {
    throw ApiError(503, "server_error", e.what());
  }
  if (p.sampling.stream) {
    respond_stream(p, res, ch, cancelled, t0);
  } else {
    respond_whole(p, res, ch, cancelled, t0);
  }
}

void Server::Impl::respond_whole(const Prepared& p, httplib::Response& res,
                                 std::shared_ptr<Channel> ch,
                                 std::shared_ptr<std::atomic<bool>> cancelled,
                                 Clock::time_point t0) {
  const Clock::time_point deadline = deadline_of(t0);
  Choice choice;
  choice.with_logprobs = p.sampling.top_logprobs >= 0;
  Usage usage{static_cast<int64_t>(p.ids.size()), 0};
  bool first = true;
  while (true) {
    if (Clock::now() >= deadline) {
      cancelled->store(true);
      throw timeout_error();
    }
    for (const SequenceEvent& e : ch->take(deadline)) {
      if (!e.error.empty()) throw ApiError(500, "server_error", e.error);
      // The first event ends the prefill and carries the prompt's scores (echo with logprobs).
      if (first && choice.with_logprobs && !p.echo.empty()) {
        choice.logprobs = prompt_logprobs(tok, p, e.prompt);
      }
      if (first) metrics.first_token(seconds_since(t0));
      first = false;
      choice.text += e.step.text;
      if (e.final) {
        choice.finish_reason = e.finish_reason;
        const std::string id = new_id(p.chat);
        if (!p.echo.empty()) choice.text = p.echo + choice.text;
        send_json(res, 200,
                  p.chat ? chat_body(id, std::time(nullptr), p.model, choice, usage)
                         : completion_body(id, std::time(nullptr), p.model, choice, usage));
        return;
      }
      ++usage.completion_tokens;
      if (choice.with_logprobs) {
        choice.logprobs.push_back(to_logprob(tok, e.step));
      }
    }
  }
}

void Server::Impl::respond_stream(const Prepared& p, httplib::Response& res,
                                  std::shared_ptr<Channel> ch,
                                  std::shared_ptr<std::atomic<bool>> cancelled,
                                  Clock::time_point t0) {
  struct State {
    std::string id;
    int64_t created = std::time(nullptr);
    bool started = false, ended = false;
    Usage usage;
  };
  auto st = std::make_shared<State>();
  st->id = new_id(p.chat);
  st->usage.prompt_tokens = static_cast<int64_t>(p.ids.size());
  const Clock::time_point deadline = deadline_of(t0);
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, p, ch, cancelled, st, deadline, t0](size_t, httplib::DataSink& sink) {
        auto write = [&](const std::string& s) {
          if (!sink.write(s.data(), s.size())) {
            cancelled->store(true);  // the client went away
            return false;
          }
          return true;
        };
        if (!st->started) {
          st->started = true;
          const std::string opening =
              p.chat
                  ? sse_event(chat_chunk(st->id, st->created, p.model, "assistant", "", ""))
                  : (p.echo.empty()
                         ? std::string()
                         : sse_event(completion_chunk(st->id, st->created, p.model, p.echo, "")));
          if (!opening.empty() && !write(opening)) return false;
        }
        if (Clock::now() >= deadline) {
          cancelled->store(true);
          write(sse_event(timeout_error().body()));
          write(kSseDone);
          sink.done();
          return true;
        }
        for (const SequenceEvent& e :
             ch->take(std::min(deadline, Clock::now() + std::chrono::seconds(1)))) {
          if (!e.error.empty()) {
            write(sse_event(ApiError(500, "server_error", e.error).body()));
            write(kSseDone);
            sink.done();
            return true;
          }
          if (st->usage.completion_tokens == 0 && !e.final) metrics.first_token(seconds_since(t0));
          std::vector<TokenLogprob> lps;
          const bool with_lps = p.sampling.top_logprobs >= 0 && !e.final;
          if (with_lps) lps = {to_logprob(tok, e.step)};
          if (!e.final) ++st->usage.completion_tokens;
          if (!e.step.text.empty() || with_lps || e.final) {
            const std::string& reason = e.final ? e.finish_reason : std::string();
            const json chunk = p.chat ? chat_chunk(st->id, st->created, p.model, std::nullopt,
                                                   e.step.text, reason, with_lps ? &lps : nullptr)
                                      : completion_chunk(st->id, st->created, p.model, e.step.text,
                                                         reason, with_lps ? &lps : nullptr);
            if (!write(sse_event(chunk))) return false;
          }
          if (e.final) {
            if (p.sampling.include_usage) {
              write(sse_event(usage_chunk(st->id, st->created, p.model, p.chat, st->usage)));
            }
            write(kSseDone);
            sink.done();
            st->ended = true;
            return true;
          }
        }
        return true;
      },
      [cancelled, st](bool success) {
        if (!success || !st->ended) cancelled->store(true);
      });
}

}  // namespace ptune::serve
