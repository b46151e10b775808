#include "api/http_metrics.h"

#include <string>

namespace grok::api {

http_metrics::http_metrics(obs::registry& r)
    : requests_(r.counter("grok_http_requests_total",
                          "HTTP requests answered, by route template and status.",
                          {"route", "status"})),
      latency_(r.histogram("grok_http_request_duration_seconds",
                           "Time to answer an HTTP request (streams: until the stream is handed "
                           "over), by route template.",
                           {"route"})),
      streams_(r.gauge("grok_streams_open", "Open streaming connections, by kind.", {"kind"})) {}

void http_metrics::observe(std::string_view route, int status, std::chrono::nanoseconds elapsed) {
  requests_.inc({route, std::to_string(status)});
  latency_.observe({route}, std::chrono::duration<double>(elapsed).count());
}

void http_metrics::set_open_streams(std::size_t sse, std::size_t websocket) {
  streams_.set({"sse"}, static_cast<double>(sse));
  streams_.set({"websocket"}, static_cast<double>(websocket));
}

}  // namespace grok::api
