// The HTTP API's Prometheus metrics (SPEC §7), kept in the process-wide registry
// (obs/metrics.h) that GET /metrics renders:
//   grok_http_requests_total{route,status}        requests answered
//   grok_http_request_duration_seconds{route}      time to answer (streams: until handed over)
//   grok_streams_open{kind="sse"|"websocket"}      open streams, set at each scrape
// Label values are bounded: route templates ("/v1/runs/{id}") or "unmatched", and the
// status codes this service answers with.
// Thread-safety: every method may be called from any thread (the registry's locks).
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

#include "obs/metrics.h"

namespace grok::api {

inline constexpr std::string_view k_prometheus_content_type = obs::k_exposition_content_type;

class http_metrics {
 public:
  explicit http_metrics(obs::registry& r = obs::metrics());

  // Counts one request answered with `status` on `route` after `elapsed`.
  void observe(std::string_view route, int status, std::chrono::nanoseconds elapsed);
  // Sets the open-stream gauges (called just before a scrape renders).
  void set_open_streams(std::size_t sse, std::size_t websocket);

 private:
  obs::counter_family& requests_;
  obs::histogram_family& latency_;
  obs::gauge_family& streams_;
};

}  // namespace grok::api
