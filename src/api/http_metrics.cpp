#include "api/http_metrics.h"

#include <fmt/format.h>

namespace grok::api {

namespace {

// A label value escaped as the text format wants (backslash, quote, newline).
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void http_metrics::observe(std::string_view route, int status, std::chrono::nanoseconds elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(route), status}];
  auto& h = latency_[std::string(route)];
  for (std::size_t i = 0; i < k_buckets.size(); ++i) {
    if (seconds <= k_buckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

std::string http_metrics::render(std::size_t open_sse, std::size_t open_websocket) const {
  std::string out;
  out += "# HELP grok_http_requests_total HTTP requests answered, by route template and status.\n";
  out += "# TYPE grok_http_requests_total counter\n";
  std::lock_guard lock(mutex_);
  for (const auto& [key, n] : requests_) {
    out += fmt::format("grok_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n",
                       label(key.first), key.second, n);
  }
  out +=
      "# HELP grok_http_request_duration_seconds Time to answer an HTTP request (streams: "
      "until the stream is handed over), by route template.\n";
  out += "# TYPE grok_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    const auto r = label(route);
    for (std::size_t i = 0; i < k_buckets.size(); ++i) {
      out += fmt::format("grok_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                         r, k_buckets[i], h.buckets[i]);
    }
    out += fmt::format("grok_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                       r, h.count);
    out += fmt::format("grok_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", r, h.sum);
    out += fmt::format("grok_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", r, h.count);
  }
  out += "# HELP grok_streams_open Open streaming connections, by kind.\n";
  out += "# TYPE grok_streams_open gauge\n";
  out += fmt::format("grok_streams_open{{kind=\"sse\"}} {}\n", open_sse);
  out += fmt::format("grok_streams_open{{kind=\"websocket\"}} {}\n", open_websocket);
  return out;
}

}  // namespace grok::api
