// Reading label scores out of OpenAI-style responses, for run_remote_eval (remote_eval.h). Pure
// functions on JSON and text, so each is tested without a network.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ptune::eval::detail {

// A completions response to prompt = context + continuation with echo and logprobs: the
// log-probs of the tokens holding the continuation's bytes, [context_bytes, total_bytes) of the
// echoed text by text_offset (a token that straddles the boundary counts with the continuation,
// and `straddled` says so). Unset when the response has no prompt log-probs (the endpoint does
// not echo them). Throws std::runtime_error for a malformed logprobs object.
struct EchoScore {
  std::vector<double> token_logprobs;
  bool straddled = false;
};
std::optional<EchoScore> echo_continuation(const nlohmann::json& response, size_t context_bytes,
                                           size_t total_bytes);

// The first generated token's alternatives, best first: chat's logprobs.content[0].top_logprobs
// or completions' logprobs.top_logprobs[0]. Unset when the response has none.
std::optional<std::vector<std::pair<std::string, double>>> first_token_alternatives(
    const nlohmann::json& response, bool chat);

// A candidate's first-token score: log of the summed probability of the alternatives whose
// text (lower-cased, leading whitespace dropped, not empty) starts the candidate's text
// (lower-cased, leading whitespace dropped); -inf when none does.
double first_token_score(const std::vector<std::pair<std::string, double>>& alternatives,
                         const std::string& candidate);

// The candidate an answer names: the longest whose words start the answer (case-insensitive,
// leading whitespace, quotes and asterisks dropped, ending at a word boundary), else the one
// named earliest as a whole word anywhere in it; unset when it names none.
std::optional<size_t> match_answer(const std::string& answer,
                                   const std::vector<std::string>& candidates);

// The generated text of a response: choices[0].text (completions) or .message.content (chat).
// Throws std::runtime_error when absent.
std::string response_text(const nlohmann::json& response, bool chat);

// `text` cut at the earliest of `stop` (servers may apply only some of them).
std::string cut_at_stop(const std::string& text, const std::vector<std::string>& stop);

}  // namespace ptune::eval::detail
