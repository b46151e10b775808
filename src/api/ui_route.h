// The web UI's static route: GET and HEAD of every path that is not the API's, answered
// from a ui_assets table (api/ui_assets.h). api::service calls it before routing; it knows
// no sockets and no Beast.
//
// Rules, in order:
//   - methods other than GET and HEAD → 405 with Allow: GET, HEAD;
//   - a path over k_max_ui_path_bytes → 414; a broken %-escape, a NUL or other control
//     character, a backslash, or a "." or ".." segment (also when %-encoded) → 400;
//   - "/" → index.html; a path naming a file of the table → that file;
//   - a missing path whose last segment has an extension, or anything under /assets/ →
//     404 problem+json; any other missing path (a client-side route such as
//     /runs/run_01J…/queue) → index.html (the SPA fallback);
//   - an empty table (no UI built into the binary, no GROK_UI_DIR) → 404 text/html page
//     saying how to build the UI.
// Files under assets/ are cached for a year (immutable); everything else is
// `no-cache` with a strong ETag, and If-None-Match (lists, W/ tags, "*") → 304. A gzip
// variant is sent when Accept-Encoding allows gzip (q=0 honoured), with Vary. Every answer
// carries nosniff, Referrer-Policy: no-referrer and the UI's Content-Security-Policy.
//
// Thread-safety: pure functions over an immutable table.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "api/http_types.h"
#include "api/ui_assets.h"

namespace grok::api {

inline constexpr std::size_t k_max_ui_path_bytes = 2048;

// The policy the UI's pages run under: same-origin scripts, styles (inline style
// attributes allowed, React Flow sets them), images (and data: URLs), fetch, EventSource
// and WebSocket (CSP3: 'self' covers ws:// and wss:// of the same host).
inline constexpr std::string_view k_ui_content_security_policy =
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' "
    "'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action "
    "'self'";

// The label of every UI response in the HTTP metrics (one bounded value).
inline constexpr std::string_view k_ui_route_label = "ui";

// Whether `path` (no query) belongs to the API: /v1 and everything under it, /healthz,
// /readyz, /metrics, /openapi.json. Paths that do not start with '/' (and "*") count as
// the API's too, so that they keep its 404.
[[nodiscard]] bool is_api_path(std::string_view path) noexcept;

// The answer to `request` (whose path is not the API's) from `assets`. The response has
// no X-Request-Id (the service adds it); `request_id` goes into problem bodies.
[[nodiscard]] http_response serve_ui(const ui_assets& assets, const http_request& request,
                                     std::string_view request_id);

// The path of a request target, %-decoded and checked as above; empty when malformed.
// "/a%2Fb" decodes to "/a/b" ('+' stays '+').
[[nodiscard]] std::optional<std::string> decode_ui_path(std::string_view path);

// Whether an Accept-Encoding value allows gzip: "gzip" or "x-gzip" with q > 0, or "*"
// with q > 0 when gzip is not listed. Malformed q values count as 0.
[[nodiscard]] bool accepts_gzip(std::string_view accept_encoding) noexcept;

// Whether an If-None-Match value matches one of the tags (weak comparison: W/"x" matches
// "x"); "*" matches anything.
[[nodiscard]] bool none_match_hits(std::string_view if_none_match, std::string_view etag,
                                   std::string_view other_etag) noexcept;

}  // namespace grok::api
