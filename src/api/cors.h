// CORS for the HTTP API (SPEC §3: an allow-list of origins). A request whose Origin is on
// the list (or the list holds "*") gets Access-Control-Allow-Origin (its origin: the API
// authenticates with a header, never cookies), Vary: Origin and the exposed headers; any
// other origin gets no CORS headers. Preflights (OPTIONS with Origin and
// Access-Control-Request-Method) need no key.
// Thread-safety: immutable after construction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"

namespace grok::api {

inline constexpr std::string_view k_cors_allow_headers =
    "Authorization, Content-Type, Idempotency-Key, X-Idempotency-Key, X-Grok-Timestamp, "
    "X-Grok-Signature, Last-Event-ID, X-Request-Id";
inline constexpr std::string_view k_cors_expose_headers =
    "X-Request-Id, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, Location";
inline constexpr int k_cors_max_age_s = 600;

class cors_policy {
 public:
  explicit cors_policy(std::vector<std::string> origins);

  [[nodiscard]] bool allows(std::string_view origin) const noexcept;

  // A preflight: OPTIONS with Origin and Access-Control-Request-Method.
  [[nodiscard]] static bool is_preflight(const http_request& request) noexcept;

  // Adds the headers of a normal response when the request's Origin is allowed.
  void decorate(const http_request& request, header_list& headers) const;

  // Adds the headers of a successful preflight for `origin` (allowed) and `methods`
  // ("GET, POST").
  void decorate_preflight(std::string_view origin, std::string_view methods,
                          header_list& headers) const;

 private:
  std::vector<std::string> origins_;
  bool any_ = false;
};

}  // namespace grok::api
