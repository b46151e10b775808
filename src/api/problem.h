// Errors as the HTTP API shows them (SPEC §3): application/problem+json (RFC 9457) with
// type, title, status, detail and the request id; and the one table that maps errc to
// an HTTP status.
// Thread-safety: pure functions (new_request_id uses a thread-safe random source).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api/http_types.h"
#include "core/result.h"

namespace grok::api {

inline constexpr std::string_view k_problem_content_type = "application/problem+json";
inline constexpr std::string_view k_json_content_type = "application/json";

// The HTTP status for an error code (invalid_argument 400, unauthenticated 401,
// not_found 404, conflict/already_exists 409, busy 503, unavailable 503, timeout 504,
// cancelled 409, unsupported 501, everything else 500).
[[nodiscard]] int http_status_for(errc code) noexcept;

// The reason phrase of a status ("Not Found"); "Error" for unknown codes.
[[nodiscard]] std::string_view status_title(int status) noexcept;

// {"type": "https://grok.dev/problems/<slug>", "title", "status", "detail", "request_id"}.
// `type` defaults to "about:blank" style slugs derived from the status.
[[nodiscard]] nlohmann::json problem_json(int status, std::string_view detail,
                                          std::string_view request_id);

// A whole problem response: status, Content-Type application/problem+json, X-Request-Id.
[[nodiscard]] http_response problem_response(int status, std::string_view detail,
                                             std::string_view request_id);

// A fresh request id: "req_" + 26 sortable characters (ids.h).
[[nodiscard]] std::string new_request_id();

}  // namespace grok::api
