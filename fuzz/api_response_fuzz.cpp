// libFuzzer target for what an API endpoint sends `ptune eval --endpoint` back: byte 0 picks the
// reading (0 echoed completions logprobs, 1 first-token alternatives of chat or completions,
// 2 the answer text matched to labels, 3 Retry-After headers), the rest is the response body
// (or the header values). Only std::runtime_error (a response without what is read, named) may
// escape; what is read back stays inside what was sent: an echo score has no more log-probs than
// tokens, a label match is a valid index, a Retry-After is finite and not negative.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "eval/remote_scoring.h"
#include "ptune/client/retry.h"

namespace {

using nlohmann::json;
using namespace ptune::eval::detail;

const std::vector<std::string> kLabels = {" positive", " negative", " card arrival", " card", ""};

void read_echo(const json& j, size_t context, size_t total) {
  const auto s = echo_continuation(j, context, total);
  if (!s) return;
  const json& tokens = j["choices"][0]["logprobs"]["tokens"];
  if (s->token_logprobs.empty() || s->token_logprobs.size() > tokens.size()) std::abort();
}

void read_alternatives(const json& j, bool chat) {
  const auto alt = first_token_alternatives(j, chat);
  if (!alt) return;
  if (alt->empty()) std::abort();
  for (size_t i = 1; i < alt->size(); ++i) {
    if ((*alt)[i].second > (*alt)[i - 1].second) std::abort();  // best first
  }
  // A label's mass is part of all the alternatives' mass.
  double total = 0;
  for (const auto& [token, lp] : *alt) total += std::exp(lp - (*alt)[0].second);
  const double all = (*alt)[0].second + std::log(total);
  for (const std::string& label : kLabels) {
    const double s = first_token_score(*alt, label);
    if (std::isfinite(s) && std::isfinite(all) && s > all + 1e-9 * std::fabs(all) + 1e-9) {
      std::abort();
    }
  }
}

void read_answer(const json& j, bool chat) {
  const std::string text = response_text(j, chat);
  const auto m = match_answer(text, kLabels);
  if (m && *m >= kLabels.size()) std::abort();
  if (cut_at_stop(text, {"\n", "Q:"}).size() > text.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const std::string body(reinterpret_cast<const char*>(data) + 3, size - 3);
  const int mode = data[0] % 4;
  if (mode == 3) {
    const size_t cut = body.find('\n');
    const std::string value = body.substr(0, cut);
    const std::string ms = cut == std::string::npos ? "" : body.substr(cut + 1);
    const auto s = ptune::client::parse_retry_after(value, ms, 1'800'000'000);
    if (s && (!std::isfinite(*s) || *s < 0)) std::abort();
    return 0;
  }
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  try {
    if (mode == 0) read_echo(j, data[1], static_cast<size_t>(data[1]) + data[2]);
    if (mode == 1) read_alternatives(j, data[1] & 1);
    if (mode == 2) read_answer(j, data[1] & 1);
  } catch (const std::runtime_error&) {
    // A response without what is read: named, and the run stops.
  }
  return 0;
}
