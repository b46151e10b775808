// The HTTP API's request and response as plain values, so that routing, auth, validation
// and the route handlers (api/) never see Beast: the transport (http/) converts to and
// from these. A response either carries a whole body, or hands the connection to a
// stream_session (Server-Sent Events or WebSocket) after its headers.
// Thread-safety: plain values.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace grok::api {

class stream_session;

using header_list = std::vector<std::pair<std::string, std::string>>;

// The first header named `name` (ASCII case-insensitive), if any.
[[nodiscard]] std::optional<std::string_view> find_header(const header_list& headers,
                                                          std::string_view name) noexcept;

struct http_request {
  std::string method;              // as sent, e.g. "GET"
  std::string target;              // path with query, as sent
  header_list headers;             // names as sent
  std::string body;                // already bounded by the transport's body limit
  std::string remote;              // peer address, for logs
  bool websocket_upgrade = false;  // a valid WebSocket upgrade request

  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept {
    return find_header(headers, name);
  }
};

enum class stream_kind { sse, websocket };

struct http_response {
  int status = 200;
  header_list headers;  // Content-Type, X-Request-Id, RateLimit-*, CORS, ...
  std::string body;
  // Set on a 200 for GET /v1/runs/{id}/stream (kind sse: the transport sends the headers,
  // then the session's messages as they come) and on an accepted GET /v1/ws (kind
  // websocket: the transport completes the upgrade, sends the headers above with the 101
  // and runs the session). Null for every other response.
  std::shared_ptr<stream_session> stream;
};

}  // namespace grok::api
