// The server's counters and latency histograms, written as Prometheus text for GET /metrics.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ptune/serve/engine.h"

namespace ptune::serve {

class Metrics {
 public:
  // One finished HTTP request: its route ("/v1/completions"), status code and duration.
  void request(const std::string& route, int status, double seconds);
  // Time from a generation request's arrival to its first token.
  void first_token(double seconds);
  // Prometheus text format 0.0.4, with the engine's gauges and counters.
  std::string render(const EngineStats& engine, size_t adapters, int64_t adapter_bytes) const;

 private:
  struct Histogram {
    std::vector<int64_t> counts;  // per bucket of kBuckets, cumulative when written
    double sum = 0;
    int64_t count = 0;
    void add(double seconds);
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, int64_t> requests_;
  std::map<std::string, Histogram> durations_;
  Histogram first_token_;
};

}  // namespace ptune::serve
