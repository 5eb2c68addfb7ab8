// When a failed call to an API is tried again, and how long the client waits first.
//
// Retried: transport failures (refused, reset, timed out) and the statuses that mean "later"
// (408, 409, 429, 500, 502, 503, 504). Not retried: every other status (a 400 stays a 400).
// The wait before retry k (k = 0 for the first retry) is
//   the server's Retry-After (retry-after-ms, else Retry-After as seconds or an HTTP date)
//     plus up to 10% jitter, when the server gave one; else
//   full jitter: uniform in [0, min(cap, base * 2^k)] (AWS's "exponential backoff and jitter"),
//     so many clients that failed together do not retry together.
// A Retry-After longer than max_wait is not waited out: the call fails saying so.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace ptune::client {

struct RetryPolicy {
  int max_retries = 5;            // tries after the first
  double base_seconds = 0.5;      // backoff unit
  double cap_seconds = 30;        // longest backoff without a Retry-After
  double max_wait_seconds = 120;  // longest Retry-After honoured

  bool retryable_status(int status) const;
  // Seconds to wait before retry `k`; `retry_after` is the server's, if it gave one.
  double delay(int k, std::optional<double> retry_after, std::mt19937_64& rng) const;
};

// The seconds a Retry-After / retry-after-ms pair asks for: `ms` (milliseconds) wins; `value` is
// delta-seconds ("3", "1.5") or an HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT", read against
// `now`, Unix seconds). Unset for absent or unreadable values and dates in the past.
std::optional<double> parse_retry_after(const std::string& value, const std::string& ms,
                                        int64_t now);

}  // namespace ptune::client
