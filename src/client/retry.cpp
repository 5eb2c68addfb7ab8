// Retry decisions and delays (see ptune/client/retry.h).
#include "ptune/client/retry.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>

namespace ptune::client {

namespace {

// A non-negative decimal number and nothing else, or unset.
std::optional<double> read_seconds(const std::string& s) {
  if (s.empty() || s.size() > 32) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v) || v < 0) return std::nullopt;
  return v;
}

// RFC 9110's IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") as Unix seconds, or unset.
std::optional<int64_t> read_http_date(const std::string& s) {
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

bool RetryPolicy::retryable_status(int status) const {
  switch (status) {
    case 408:  // request timeout
    case 409:  // conflict (OpenAI: a lock on the resource)
    case 429:  // rate limited or queue full
    case 500:
    case 502:
    case 503:
    case 504:
      return true;
    default:
      return false;
  }
}

double RetryPolicy::delay(int k, std::optional<double> retry_after, std::mt19937_64& rng) const {
  if (retry_after) {
    std::uniform_real_distribution<double> jitter(0, 0.1 * *retry_after);
    return *retry_after + jitter(rng);
  }
  const double ceiling = std::min(cap_seconds, base_seconds * std::ldexp(1.0, std::min(k, 30)));
  std::uniform_real_distribution<double> wait(0, ceiling);
  return wait(rng);
}

std::optional<double> parse_retry_after(const std::string& value, const std::string& ms,
                                        int64_t now) {
  if (auto v = read_seconds(ms)) return *v / 1000.0;
  if (auto v = read_seconds(value)) return v;
  if (auto t = read_http_date(value); t && *t >= now) return static_cast<double>(*t - now);
  return std::nullopt;
}

}  // namespace ptune::client
