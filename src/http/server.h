// The HTTP transport: the only code that includes Beast and Asio. Accepts connections on
// one address, reads requests under hard limits, hands each to a request_handler as a
// plain api::http_request, writes the api::http_response back, and drives streaming
// sessions (SSE, WebSocket) the handler returns.
//
// Limits, each answered with problem+json where a response is still possible:
//   - request body over max_body_bytes → 413; request head over max_header_bytes → 431;
//     a malformed request → 400; then the connection closes;
//   - a request head not complete within header_timeout, or a keep-alive connection idle
//     for idle_timeout, is closed (a slowloris client never holds a worker: everything is
//     asynchronous on a few io threads);
//   - beyond max_connections open connections, new ones get 503 and are closed.
// stop() stops accepting, lets in-flight requests finish, ends streams (SSE ends,
// WebSocket closes 1001) and returns once everything closed or drain_timeout passed.
//
// Thread-safety: start/stop/port from any thread. The handler is called on io threads,
// concurrently; it must be thread-safe and should not block for long.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/http_types.h"
#include "core/config.h"
#include "core/result.h"

namespace grok::http {

using request_handler = std::function<api::http_response(api::http_request&)>;

struct server_stats {
  std::uint64_t connections_open = 0;
  std::uint64_t connections_total = 0;
  std::uint64_t connections_refused = 0;  // over max_connections
  std::uint64_t requests_total = 0;
};

class server {
 public:
  // Binds `listen` ("HOST:PORT"; port 0 picks a free one) and starts the io threads.
  // errc::invalid_argument for an unparsable address, errc::io when binding fails.
  [[nodiscard]] static result<std::unique_ptr<server>> start(std::string listen,
                                                             const http_config& limits,
                                                             request_handler handler);
  ~server();  // stop() if not stopped
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // The bound port (useful with port 0).
  [[nodiscard]] std::uint16_t port() const noexcept;
  // Graceful drain as described above; idempotent.
  void stop();
  [[nodiscard]] server_stats stats() const;

 private:
  struct impl;
  explicit server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace grok::http
