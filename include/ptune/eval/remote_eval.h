// `ptune eval --endpoint URL --remote-model NAME`: a task evaluated through an OpenAI-compatible
// API (a hosted model, `ptune serve`, llama.cpp's server) instead of a local model. Same
// examples, prompts, demos, records and metrics with CIs as run_eval (evaluator.h).
//
// Task formats: a completion-format task sends its prompt text to /v1/completions; a chat-format
// task sends [system, user] messages to /v1/chat/completions (the endpoint applies its own chat
// template).
// Classification and multiple choice are scored one of three ways (RemoteScoring), named in the
// summary and the printed table:
//   echo      completions with echo + logprobs: the log-probs of each candidate's tokens after
//             the prompt, as rank classification scores them locally (sum or mean). Exact, and
//             what `ptune serve` answers; one call per example and candidate.
//   logprobs  the first answer token's top log-probs (chat top_logprobs 20, completions
//             logprobs 5): a label scores the log of the probability of the top tokens its text
//             starts with. An approximation: labels sharing a first token tie, and a label
//             outside the top is -inf. One call per example.
//   generate  greedy answer text, matched to the label words (the longest label the answer
//             starts with, else the first one it names as a word); an answer naming none is
//             predicted "(none)" and counted wrong. One call per example.
//   auto      echo where the endpoint returns the prompt's log-probs, else logprobs where it
//             returns top log-probs, else generate: decided on the first example.
// Generation and qa: chat or completions with the task's max_tokens, temperature, top_p and
// stop (cut again client-side; at most 4 are sent), seeded per example. Metrics that need the
// reference's log-probs (nll, perplexity) need echo; the rubric judge and contextual
// calibration under "generate" are refused naming the option to change.
#pragma once

#include <string>

#include "ptune/client/openai_client.h"
#include "ptune/eval/evaluator.h"

namespace ptune::eval {

enum class RemoteScoring { Auto, Echo, Logprobs, Generate };
std::string to_string(RemoteScoring s);
// Throws std::invalid_argument for a name other than auto, echo, logprobs, generate.
RemoteScoring parse_remote_scoring(const std::string& name);

struct RemoteEvalOptions {
  std::string model;  // the endpoint's model id (--remote-model)
  RemoteScoring scoring = RemoteScoring::Auto;
};

// Throws std::invalid_argument for bad options (as run_eval; and soft prompts, which a remote
// model cannot take), client::ApiCallError for a call that failed for good (naming the example),
// std::runtime_error for a response without what the scoring mode reads.
EvalResult run_remote_eval(const tasks::TaskSpec& task, const tasks::TaskData& data,
                           client::OpenAiClient& client, const EvalOptions& options,
                           const RemoteEvalOptions& remote, Progress* progress = nullptr);

}  // namespace ptune::eval
