#include "serve/metrics.h"

#include <sstream>

namespace ptune::serve {

namespace {

// Upper bounds in seconds (Prometheus' "le"); +Inf is the count.
const std::vector<double> kBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                      2.5,  5,     10,   30,  60,   300};

void write_histogram(std::ostringstream& out, const std::string& name, const std::string& labels,
                     const std::vector<int64_t>& counts, double sum, int64_t count) {
  const std::string sep = labels.empty() ? "" : ",";
  int64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    out << name << "_bucket{" << labels << sep << "le=\"" << kBuckets[i] << "\"} " << cumulative
        << "\n";
  }
  out << name << "_bucket{" << labels << sep << "le=\"+Inf\"} " << count << "\n";
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out << name << "_sum" << braces << " " << sum << "\n";
  out << name << "_count" << braces << " " << count << "\n";
}

}  // namespace

void Metrics::Histogram::add(double seconds) {
  if (counts.empty()) counts.assign(kBuckets.size(), 0);
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++counts[i];
      break;
    }
  }
  sum += seconds;
  ++count;
}

void Metrics::request(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, status}];
  durations_[route].add(seconds);
}

void Metrics::first_token(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  first_token_.add(seconds);
}

std::string Metrics::render(const EngineStats& e, size_t adapters, int64_t adapter_bytes) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::ostringstream out;
  auto metric = [&](const char* name, const char* type, const char* help, double value) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
        << name << " " << value << "\n";
  };
  out << "# HELP ptune_requests_total HTTP requests by route and status code\n"
      << "# TYPE ptune_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out << "ptune_requests_total{route=\"" << key.first << "\",code=\"" << key.second << "\"} " << n
        << "\n";
  }
  out << "# HELP ptune_request_duration_seconds Time from a request's arrival to its last byte\n"
      << "# TYPE ptune_request_duration_seconds histogram\n";
  for (const auto& [route, h] : durations_) {
    write_histogram(out, "ptune_request_duration_seconds", "route=\"" + route + "\"", h.counts,
                    h.sum, h.count);
  }
  out << "# HELP ptune_time_to_first_token_seconds Time from a request's arrival to its first "
         "token\n# TYPE ptune_time_to_first_token_seconds histogram\n";
  write_histogram(out, "ptune_time_to_first_token_seconds", "", first_token_.counts,
                  first_token_.sum, first_token_.count);
  metric("ptune_sequences_running", "gauge", "Sequences prefilling or decoding", e.running);
  metric("ptune_queue_depth", "gauge", "Sequences waiting to start", e.waiting);
  metric("ptune_adapters", "gauge", "Tuned prompts served", adapters);
  metric("ptune_adapter_bytes", "gauge", "Bytes of the adapters' keys/values",
         static_cast<double>(adapter_bytes));
  metric("ptune_sequences_finished_total", "counter", "Sequences ended (any reason)", e.finished);
  metric("ptune_sequences_cancelled_total", "counter", "Sequences cancelled (client gone, timeout)",
         e.cancelled);
  metric("ptune_sequences_failed_total", "counter", "Sequences ended by an error", e.failed);
  metric("ptune_prompt_tokens_total", "counter", "Prompt tokens prefilled", e.prompt_tokens);
  metric("ptune_generated_tokens_total", "counter", "Tokens generated", e.generated_tokens);
  metric("ptune_decode_steps_total", "counter", "Batched decode forwards", e.decode_steps);
  metric("ptune_decode_rows_total", "counter",
         "Rows summed over decode forwards (mean batch size = rows / steps)", e.decode_rows);
  metric("ptune_decode_batch_max", "gauge", "Largest decode batch so far", e.max_batch);
  metric("ptune_prefill_forwards_total", "counter", "Prefill forwards", e.prefill_forwards);
  metric("ptune_prefill_rows_total", "counter",
         "Prompts summed over prefill forwards (rows / forwards = prompts prefilled together)",
         e.prefill_rows);
  metric("ptune_prefix_cache_hits_total", "counter",
         "Prompts that started after a cached head of an earlier prompt", e.prefix_hits);
  metric("ptune_prefix_cache_reused_tokens_total", "counter",
         "Prompt tokens taken from the prefix cache instead of computed", e.prefix_reused_tokens);
  metric("ptune_prefix_cache_bytes", "gauge", "Bytes of keys/values the prefix cache holds",
         e.prefix_cache_bytes);
  return out.str();
}

}  // namespace ptune::serve
