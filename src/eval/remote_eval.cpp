// run_remote_eval: a task through an OpenAI-compatible endpoint (contract in
// include/ptune/eval/remote_eval.h). The examples, demos, metrics and summary are run_eval's
// (eval_run.h); what differs is that every score or answer is an API call, and that scores come
// from what the endpoint returns (remote_scoring.h).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>

#include "eval_run.h"
#include "ptune/eval/calibration.h"
#include "ptune/eval/remote_eval.h"
#include "remote_scoring.h"

namespace ptune::eval {

using nlohmann::json;
using tasks::Example;

std::string to_string(RemoteScoring s) {
  switch (s) {
    case RemoteScoring::Auto:
      return "auto";
    case RemoteScoring::Echo:
      return "echo";
    case RemoteScoring::Logprobs:
      return "logprobs";
    case RemoteScoring::Generate:
      return "generate";
  }
  return "?";
}

RemoteScoring parse_remote_scoring(const std::string& name) {
  for (RemoteScoring s : {RemoteScoring::Auto, RemoteScoring::Echo, RemoteScoring::Logprobs,
                          RemoteScoring::Generate}) {
    if (to_string(s) == name) return s;
  }
  throw std::invalid_argument("--remote-scoring '" + name +
                              "': give auto, echo, logprobs or generate");
}

namespace {

constexpr const char* kNoLabel = "(none)";
constexpr int kChatTopLogprobs = 20;       // OpenAI's chat maximum
constexpr int kCompletionTopLogprobs = 5;  // OpenAI's completions maximum
constexpr int kAnswerTokens = 24;          // generate mode: room for a several-word label
constexpr size_t kMaxStopSent = 4;         // OpenAI's limit; the rest are cut client-side

const char* describe(RemoteScoring s) {
  switch (s) {
    case RemoteScoring::Echo:
      return "echo: the candidates' token log-probs after the prompt (exact rank classification)";
    case RemoteScoring::Logprobs:
      return "logprobs: the first answer token's top log-probs (an approximation: labels sharing "
             "a first token tie; a label outside the top scores -inf)";
    case RemoteScoring::Generate:
      return "generate: greedy answer text matched to the label words (no probabilities)";
    case RemoteScoring::Auto:
      break;
  }
  return "";
}

// One run_remote_eval call: inputs, prompts and what the flows write.
struct RemoteRun {
  RemoteRun(const tasks::TaskSpec& task_in, const tasks::TaskData& data_in,
            std::vector<Example> examples_in, client::OpenAiClient& client_in,
            const EvalOptions& opt_in, const RemoteEvalOptions& remote_in, Progress* progress_in)
      : task(task_in),
        data(data_in),
        examples(std::move(examples_in)),
        client(client_in),
        opt(opt_in),
        remote(remote_in),
        progress(progress_in),
        seed(opt_in.seed.value_or(0)),
        prompts(task_in, opt_in.template_name),
        chat(task_in.format == tasks::PromptFormat::Chat) {
    demos = detail::select_demos(task, data, prompts, examples);
    for (size_t i = 0; i < examples.size(); ++i) {
      texts.push_back(prompt_text(prompts.render(examples[i], demos[i])));
      records.push_back(
          detail::example_record(examples[i], i, opt.show_prompt ? &texts[i] : nullptr));
    }
  }

  static std::string prompt_text(const tasks::RenderedPrompt& p) {
    if (p.has_soft()) {
      throw std::invalid_argument(
          "the template has soft-token slots ({soft...}); a remote model takes text only, pick "
          "another --template");
    }
    return p.text();
  }

  size_t size() const { return examples.size(); }
  bool wants(Need need) const {
    for (const std::string& name : task.metrics) {
      const Metric* m = find_metric(name);
      if (m != nullptr && m->needs == need) return true;
    }
    return false;
  }
  std::string path() const { return chat ? "/chat/completions" : "/completions"; }

  // A request for `text`: completions' prompt, or chat's [system, user] messages.
  json body(const std::string& text) const {
    json b = {{"model", remote.model}};
    if (chat) {
      json messages = json::array();
      if (!task.system.empty()) messages.push_back({{"role", "system"}, {"content", task.system}});
      messages.push_back({{"role", "user"}, {"content", text}});
      b["messages"] = messages;
    } else {
      b["prompt"] = text;
    }
    return b;
  }

  // The calls as one progress stage; body k is for example example_of[k] (k itself when
  // empty), which a failure names.
  std::vector<json> call(const std::string& path, const std::vector<json>& bodies,
                         const std::string& stage, const std::vector<size_t>& example_of = {}) {
    if (progress) progress->start(stage, bodies.size(), "calls");
    std::vector<json> out;
    try {
      out = client.call_all(path, bodies, [&](size_t done) {
        if (progress) progress->update(done);
      });
    } catch (const client::ApiCallError& e) {
      if (progress) progress->finish();
      if (!e.request()) throw;
      const size_t k = *e.request();
      const size_t i = example_of.empty() ? k : example_of.at(k);
      throw client::ApiCallError("example " + examples.at(i).location() + ", " + e.what(),
                                 e.status(), e.request());
    }
    if (progress) progress->finish();
    return out;
  }

  const tasks::TaskSpec& task;
  const tasks::TaskData& data;
  const std::vector<Example> examples;
  client::OpenAiClient& client;
  const EvalOptions& opt;
  const RemoteEvalOptions& remote;
  Progress* progress;
  const uint64_t seed;
  const tasks::PromptBuilder prompts;
  const bool chat;

  std::vector<std::vector<const Example*>> demos;
  std::vector<std::string> texts;
  std::vector<json> records;
  json metrics = json::object();
  RemoteScoring mode = RemoteScoring::Auto;
  json counts = json::object();  // what the scoring mode could not do cleanly, counted
  std::vector<bool> unmatched;   // rank tasks: no label scored or named
  int echo_max_tokens = 1;       // 0 once the endpoint has scored a prompt without generating
};

// --- Request bodies per scoring mode ----------------------------------------------------------

json echo_body(const RemoteRun& run, const std::string& text) {
  // max_tokens 0 where the endpoint takes it (ptune serve, OpenAI's legacy API), else one token,
  // generated and left out, as lm-evaluation-harness asks.
  json b = run.body(text);
  b["echo"] = true;
  b["logprobs"] = 1;
  b["max_tokens"] = run.echo_max_tokens;
  b["temperature"] = 0;
  return b;
}

json logprobs_body(const RemoteRun& run, const std::string& text) {
  json b = run.body(text);
  b["max_tokens"] = 1;
  b["temperature"] = 0;
  if (run.chat) {
    b["logprobs"] = true;
    b["top_logprobs"] = kChatTopLogprobs;
  } else {
    b["logprobs"] = kCompletionTopLogprobs;
  }
  return b;
}

json answer_body(const RemoteRun& run, const std::string& text) {
  json b = run.body(text);
  b["max_tokens"] = kAnswerTokens;
  b["temperature"] = 0;
  if (!run.chat) b["stop"] = {"\n"};
  return b;
}

// --- Choosing the scoring mode ------------------------------------------------------------------

// Whether the endpoint answers `body` with what `reads` needs; a refusal (4xx other than 429)
// means no.
template <typename Reads>
bool endpoint_gives(RemoteRun& run, const json& body, Reads reads) {
  try {
    return reads(run.client.call(run.path(), body));
  } catch (const client::ApiCallError& e) {
    if (e.status() >= 400 && e.status() < 500 && e.status() != 429) return false;
    throw;
  }
}

// Whether the endpoint returns the prompt's log-probs for echo, trying max_tokens 0 (no wasted
// decode step) before 1; sets run.echo_max_tokens to the one that worked.
bool endpoint_echoes(RemoteRun& run, const tasks::Candidate& probe) {
  const std::string& text = run.texts[0];
  const std::string full = text + probe.continuation;
  for (int max_tokens : {0, 1}) {
    run.echo_max_tokens = max_tokens;
    if (endpoint_gives(run, echo_body(run, full), [&](const json& r) {
          return detail::echo_continuation(r, text.size(), full.size()).has_value();
        })) {
      return true;
    }
  }
  run.echo_max_tokens = 1;
  return false;
}

RemoteScoring choose_mode(RemoteRun& run, const tasks::Candidate& probe) {
  const std::string& text = run.texts[0];
  if (!run.chat && endpoint_echoes(run, probe)) return RemoteScoring::Echo;
  if (endpoint_gives(run, logprobs_body(run, text), [&](const json& r) {
        return detail::first_token_alternatives(r, run.chat).has_value();
      })) {
    return RemoteScoring::Logprobs;
  }
  return RemoteScoring::Generate;
}

// The mode asked for, or the one auto finds; refuses what the task needs and the mode lacks.
RemoteScoring resolve_mode(RemoteRun& run, const tasks::Candidate& probe) {
  RemoteScoring m = run.remote.scoring;
  if (m == RemoteScoring::Echo && run.chat) {
    throw std::invalid_argument(
        "--remote-scoring echo scores a completion prompt and this task's format is chat "
        "(the endpoint applies its own chat template): use logprobs or generate");
  }
  if (m == RemoteScoring::Auto) m = choose_mode(run, probe);
  if (m == RemoteScoring::Echo && run.remote.scoring == RemoteScoring::Echo) {
    endpoint_echoes(run, probe);  // for max_tokens 0 where it works; failures surface when scoring
  }
  if (m == RemoteScoring::Generate && run.task.scoring.calibration) {
    throw std::invalid_argument(
        "contextual calibration needs label log-probabilities and scoring is 'generate' (the "
        "endpoint returns none): pass --no-calibrate");
  }
  if (m != RemoteScoring::Echo && run.wants(Need::GoldLogprobs)) {
    throw std::invalid_argument(
        "nll / perplexity need the gold label's token log-probs: only "
        "--remote-scoring echo gives them (scoring is '" +
        to_string(m) + "')");
  }
  return m;
}

// --- Classification and multiple choice -------------------------------------------------------

// What is scored per example: its candidates and the texts they are scored after (the prompt,
// then the content-free prompts of calibration).
struct RankItems {
  std::vector<std::vector<tasks::Candidate>> candidates;  // per example
  std::vector<std::string> contexts;                      // prompts, then content-free ones
  std::vector<size_t> context_of;                         // contexts index -> example
  std::vector<std::vector<size_t>> content_free;          // per example: its contexts
};

RankItems rank_items(const RemoteRun& run) {
  RankItems items;
  items.contexts = run.texts;
  for (size_t i = 0; i < run.size(); ++i) {
    items.candidates.push_back(run.prompts.candidates(run.examples[i]));
    items.context_of.push_back(i);
  }
  if (!run.task.scoring.calibration) return items;
  items.content_free.resize(run.size());
  std::map<std::string, size_t> seen;  // with fixed demos every example shares the same few
  for (size_t i = 0; i < run.size(); ++i) {
    for (const std::string& cf : run.task.scoring.calibration_inputs) {
      const std::string text = RemoteRun::prompt_text(
          run.prompts.render_content_free(run.examples[i], run.demos[i], cf));
      std::string key = text;
      for (const auto& c : items.candidates[i]) key += '\x1f' + c.continuation;
      auto it = seen.find(key);
      if (it == seen.end()) {
        it = seen.emplace(key, items.contexts.size()).first;
        items.contexts.push_back(text);
        items.context_of.push_back(i);
      }
      items.content_free[i].push_back(it->second);
    }
  }
  return items;
}

// Per context, per candidate of its example: token log-probs (echo), one first-token score
// (logprobs), or nothing (generate: `answers` gets the matched candidate instead).
struct RankScores {
  std::vector<std::vector<ContinuationScore>> tokens;  // [context][candidate] token log-probs
  std::vector<std::optional<size_t>> answers;          // generate: per example
  std::vector<std::string> answer_texts;
};

RankScores score_echo(RemoteRun& run, const RankItems& items) {
  std::vector<json> bodies;
  std::vector<std::pair<size_t, size_t>> at;  // (context, candidate)
  std::vector<size_t> example_of;
  for (size_t c = 0; c < items.contexts.size(); ++c) {
    for (size_t j = 0; j < items.candidates[items.context_of[c]].size(); ++j) {
      bodies.push_back(echo_body(
          run, items.contexts[c] + items.candidates[items.context_of[c]][j].continuation));
      at.emplace_back(c, j);
      example_of.push_back(items.context_of[c]);
    }
  }
  const std::vector<json> responses = run.call("/completions", bodies, "scoring", example_of);
  RankScores s;
  s.tokens.resize(items.contexts.size());
  int64_t straddled = 0;
  for (size_t k = 0; k < responses.size(); ++k) {
    const auto [c, j] = at[k];
    const std::string& context = items.contexts[c];
    const size_t total =
        context.size() + items.candidates[items.context_of[c]][j].continuation.size();
    const auto echo = detail::echo_continuation(responses[k], context.size(), total);
    if (!echo) {
      throw std::runtime_error("example " + run.examples[example_of[k]].location() +
                               ": the endpoint returned no prompt log-probs for echo (use "
                               "--remote-scoring logprobs or generate)");
    }
    straddled += echo->straddled;
    s.tokens[c].resize(items.candidates[items.context_of[c]].size());
    s.tokens[c][j].token_logprobs = echo->token_logprobs;
  }
  run.counts["boundary_tokens"] = straddled;  // a token holding both context and label bytes
  return s;
}

RankScores score_first_tokens(RemoteRun& run, const RankItems& items) {
  std::vector<json> bodies;
  for (const std::string& text : items.contexts) bodies.push_back(logprobs_body(run, text));
  const std::vector<json> responses = run.call(run.path(), bodies, "scoring", items.context_of);
  RankScores s;
  s.tokens.resize(items.contexts.size());
  for (size_t c = 0; c < responses.size(); ++c) {
    const auto alternatives = detail::first_token_alternatives(responses[c], run.chat);
    if (!alternatives) {
      throw std::runtime_error("example " + run.examples[items.context_of[c]].location() +
                               ": the endpoint returned no top log-probs (use --remote-scoring "
                               "generate)");
    }
    for (const tasks::Candidate& cand : items.candidates[items.context_of[c]]) {
      s.tokens[c].push_back({{detail::first_token_score(*alternatives, cand.continuation)}});
    }
  }
  return s;
}

RankScores score_answers(RemoteRun& run, const RankItems& items) {
  std::vector<json> bodies;
  for (size_t i = 0; i < run.size(); ++i) bodies.push_back(answer_body(run, run.texts[i]));
  const std::vector<json> responses = run.call(run.path(), bodies, "answering");
  RankScores s;
  for (size_t i = 0; i < run.size(); ++i) {
    const std::string answer = detail::response_text(responses[i], run.chat);
    std::vector<std::string> words;
    for (const tasks::Candidate& c : items.candidates[i]) words.push_back(c.continuation);
    const std::optional<size_t> j = detail::match_answer(answer, words);
    s.answers.push_back(j ? std::optional<size_t>(items.candidates[i][*j].label) : std::nullopt);
    s.answer_texts.push_back(answer);
  }
  return s;
}

// Per label, the max over its candidates of the sum or mean log-prob (after context `c`).
std::vector<double> label_scores(const RemoteRun& run, const RankItems& items, const RankScores& s,
                                 size_t c) {
  const size_t i = items.context_of[c];
  return detail::best_label_scores(items.candidates[i],
                                   run.prompts.class_names(run.examples[i]).size(), s.tokens[c],
                                   run.task.scoring.normalize == tasks::ScoreNormalization::Mean);
}

bool all_infinite(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return std::isinf(x); });
}

// The labels' log-probabilities of example i (calibrated when the task asks), or unset when no
// label got a finite score.
std::optional<std::vector<double>> label_log_probs(const RemoteRun& run, const RankItems& items,
                                                   const RankScores& s, size_t i,
                                                   const std::vector<double>& raw, json& record) {
  if (all_infinite(raw)) return std::nullopt;
  if (!run.task.scoring.calibration) return log_normalize(raw);
  std::vector<std::vector<double>> cf;
  for (size_t c : items.content_free[i]) {
    std::vector<double> scores = label_scores(run, items, s, c);
    // A label no content-free prompt ranks (outside the top) gets the floor of the rest.
    double floor = std::numeric_limits<double>::infinity();
    for (double v : scores) floor = std::isinf(v) ? floor : std::min(floor, v);
    for (double& v : scores) v = std::isinf(v) ? (std::isinf(floor) ? 0 : floor) : v;
    cf.push_back(scores);
  }
  const std::vector<double> prior = content_free_log_prior(cf);
  const std::vector<std::string> names = run.prompts.class_names(run.examples[i]);
  record["calibration_prior"] = json::object();
  for (size_t l = 0; l < names.size(); ++l) {
    record["calibration_prior"][names[l]] = std::exp(prior[l]);
  }
  return calibrate(raw, prior);
}

// Fills the records and label outcomes; returns the largest number of labels an example has.
size_t rank_remote(RemoteRun& run, Outcomes& out) {
  const size_t n = run.size();
  const RankItems items = rank_items(run);
  std::vector<size_t> gold(n);
  for (size_t i = 0; i < n; ++i) gold[i] = run.prompts.gold_index(run.examples[i]);
  run.mode = resolve_mode(run, items.candidates[0].at(0));
  const RankScores s = run.mode == RemoteScoring::Echo       ? score_echo(run, items)
                       : run.mode == RemoteScoring::Logprobs ? score_first_tokens(run, items)
                                                             : score_answers(run, items);
  size_t n_classes = 0;
  int64_t unmatched = 0;
  out.gold = gold;
  out.predicted.resize(n);
  out.gold_logprobs.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const std::vector<std::string> names = run.prompts.class_names(run.examples[i]);
    n_classes = std::max(n_classes, names.size());
    json& r = run.records[i];
    std::optional<size_t> pred;
    if (run.mode == RemoteScoring::Generate) {
      pred = s.answers[i];
      r["answer"] = s.answer_texts[i];
    } else {
      const std::vector<double> raw = label_scores(run, items, s, i);
      const auto probs = label_log_probs(run, items, s, i, raw, r);
      if (probs) pred = argmax(*probs);
      json per = json::object();
      for (size_t l = 0; l < names.size(); ++l) {
        per[names[l]] = {{"score", std::isinf(raw[l]) ? json(nullptr) : json(raw[l])},
                         {"prob", probs ? json(std::exp((*probs)[l])) : json(nullptr)}};
      }
      r["label_scores"] = per;
      json words = json::array();
      for (size_t j = 0; j < items.candidates[i].size(); ++j) {
        words.push_back({{"label", names[items.candidates[i][j].label]},
                         {"continuation", items.candidates[i][j].continuation},
                         {"token_logprobs", s.tokens[i][j].token_logprobs}});
        if (items.candidates[i][j].label == gold[i] && out.gold_logprobs[i].empty()) {
          out.gold_logprobs[i] = s.tokens[i][j].token_logprobs;
        }
      }
      r["continuations"] = words;
    }
    unmatched += !pred;
    run.unmatched.push_back(!pred);
    out.predicted[i] = pred.value_or(0);  // add_no_label gives "(none)" its index
    r["prediction"] = pred ? json(names[*pred]) : json(kNoLabel);
    r["gold"] = names[gold[i]];
    r["correct"] = pred == gold[i];
  }
  run.counts["unmatched"] = unmatched;
  return n_classes;
}

// "(none)" gets the index after the task's labels when some answer named no label.
void add_no_label(const RemoteRun& run, Outcomes& out) {
  const size_t none = out.labels.size();
  bool any = false;
  for (size_t i = 0; i < run.size(); ++i) {
    if (run.unmatched[i]) out.predicted[i] = none;
    any = any || run.unmatched[i];
  }
  if (any) out.labels.push_back(kNoLabel);
}

void classify_remote(RemoteRun& run, Outcomes& out) {
  rank_remote(run, out);
  out.labels = run.prompts.class_names(run.examples[0]);
  add_no_label(run, out);
}

void choose_remote(RemoteRun& run, Outcomes& out) {
  const size_t n_choices = rank_remote(run, out);
  for (size_t l = 0; l < n_choices; ++l) {
    out.labels.push_back(std::string(1, static_cast<char>('A' + l % 26)));
  }
  add_no_label(run, out);
}

// --- Generation and qa ------------------------------------------------------------------------

json generation_body(const RemoteRun& run, size_t i) {
  const tasks::GenerationSpec& g = run.task.generation;
  json b = run.body(run.texts[i]);
  b["max_tokens"] = g.max_tokens;
  b["temperature"] = g.temperature;
  b["top_p"] = g.top_p;
  if (g.temperature > 0) b["seed"] = run.seed + i;  // per example, as run_eval seeds it
  if (!g.stop.empty()) {
    const size_t n = std::min(kMaxStopSent, g.stop.size());
    b["stop"] = std::vector<std::string>(g.stop.begin(), g.stop.begin() + n);
  }
  return b;
}

void generate_remote(RemoteRun& run, Outcomes& out) {
  if (run.wants(Need::Grade)) {
    throw std::invalid_argument(
        "metric rubric: the judge is not run through --endpoint; evaluate it with a local -m "
        "model, or list other metrics");
  }
  if (run.wants(Need::GoldLogprobs) && run.chat) {
    throw std::invalid_argument(
        "nll / perplexity need echo log-probs, which chat-format tasks "
        "cannot get from an endpoint; list other metrics");
  }
  const size_t n = run.size();
  std::vector<json> bodies;
  for (size_t i = 0; i < n; ++i) bodies.push_back(generation_body(run, i));
  const std::vector<json> responses = run.call(run.path(), bodies, "generating");
  out.predictions.resize(n);
  out.references.resize(n);
  int64_t tokens = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::string text = detail::cut_at_stop(detail::response_text(responses[i], run.chat),
                                                 run.task.generation.stop);
    out.predictions[i] = detail::trimmed(text);
    out.references[i] = run.prompts.references(run.examples[i]);
    json& r = run.records[i];
    r["prediction"] = out.predictions[i];
    r["gold"] = out.references[i];
    const json& choice = responses[i]["choices"][0];
    r["finish_reason"] = choice.value("finish_reason", json(nullptr));
    const json* usage = responses[i].contains("usage") ? &responses[i]["usage"] : nullptr;
    const int64_t used = usage && usage->is_object() && usage->contains("completion_tokens") &&
                                 (*usage)["completion_tokens"].is_number_integer()
                             ? (*usage)["completion_tokens"].get<int64_t>()
                             : 0;
    r["generated_tokens"] = used;
    tokens += used;
  }
  run.metrics["generated_tokens"] = tokens;
  detail::record_text_scores(run.records, out);
  if (!run.wants(Need::GoldLogprobs)) return;
  // The first reference's log-probs after the prompt, by echo.
  std::vector<json> echo;
  std::vector<std::string> fulls;
  for (size_t i = 0; i < n; ++i) {
    fulls.push_back(run.texts[i] + run.task.scoring.label_prefix + out.references[i].at(0));
    echo.push_back(echo_body(run, fulls[i]));
  }
  const std::vector<json> scored = run.call("/completions", echo, "reference nll");
  out.gold_logprobs.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const auto e = detail::echo_continuation(scored[i], run.texts[i].size(), fulls[i].size());
    if (!e) throw std::runtime_error("the endpoint returned no prompt log-probs for echo");
    out.gold_logprobs[i] = e->token_logprobs;
  }
  run.mode = RemoteScoring::Echo;
}

}  // namespace

EvalResult run_remote_eval(const tasks::TaskSpec& task_in, const tasks::TaskData& data,
                           client::OpenAiClient& client, const EvalOptions& opt,
                           const RemoteEvalOptions& remote, Progress* progress) {
  const auto t_start = std::chrono::steady_clock::now();
  if (remote.model.empty()) throw std::invalid_argument("--remote-model is required");
  const tasks::TaskSpec task = detail::apply_overrides(task_in, opt);
  const uint64_t seed = opt.seed.value_or(0);
  RemoteRun run(task, data, eval_examples(task, data, opt.split, opt.limit, seed), client, opt,
                remote, progress);
  Outcomes out;
  out.n = run.size();
  switch (task.type) {
    case tasks::TaskType::Classification:
      classify_remote(run, out);
      break;
    case tasks::TaskType::MultipleChoice:
      choose_remote(run, out);
      break;
    case tasks::TaskType::Generation:
    case tasks::TaskType::QA:
      generate_remote(run, out);
      break;
  }
  if (run.wants(Need::GoldLogprobs)) detail::record_gold_nll(run.records, out);
  BootstrapOptions boot;
  boot.resamples = opt.bootstrap_resamples;
  boot.seed = seed;
  EvalResult res;
  res.headline = detail::compute_metrics(task, out, boot, run.metrics);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  res.summary =
      detail::base_summary({task, data, opt, run.size(), seed, run.metrics}, boot, res.seconds);
  json r = {{"endpoint", client.endpoint()},
            {"model", remote.model},
            {"api", run.chat ? "chat" : "completions"},
            {"client", client.stats().to_json()},
            {"concurrency", client.options().concurrency},
            {"counts", run.counts}};
  if (task.type == tasks::TaskType::Classification ||
      task.type == tasks::TaskType::MultipleChoice || run.mode != RemoteScoring::Auto) {
    r["scoring"] = to_string(run.mode);
    r["scoring_note"] = describe(run.mode);
  }
  res.summary["remote"] = r;
  res.records = std::move(run.records);
  return res;
}

}  // namespace ptune::eval
