// The HTTP API's own Prometheus metrics (SPEC §7), rendered by GET /metrics in text format
// 0.0.4: requests by route template and status, request latency by route, and open streams.
// Label values are bounded: route templates ("/v1/runs/{id}") or "unmatched", and status
// codes.
// Thread-safety: observe() and render() may be called from any thread (one mutex).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace grok::api {

inline constexpr std::string_view k_prometheus_content_type =
    "text/plain; version=0.0.4; charset=utf-8";

class http_metrics {
 public:
  // Counts one request answered with `status` on `route` after `elapsed`.
  void observe(std::string_view route, int status, std::chrono::nanoseconds elapsed);

  // The exposition text, with the open-stream gauges as given.
  [[nodiscard]] std::string render(std::size_t open_sse, std::size_t open_websocket) const;

  static constexpr std::array<double, 11> k_buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                       0.5,   1.0,  2.5,   5.0,  10.0};

 private:
  struct histogram {
    std::array<std::uint64_t, k_buckets.size()> buckets{};  // cumulative counts per bound
    std::uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;  // guarded by mutex_
  std::map<std::string, histogram> latency_;                       // guarded by mutex_
};

}  // namespace grok::api
