// The `http_get` tool (SPEC §5) and the fetch it shares with `web_page`.
//
// A GET over http or https with libcurl, hardened against a model that picks the URL:
// - every connection, including each redirect hop and each address a name resolves to, is
//   checked against the address policy on the socket address actually connected to
//   (CURLOPT_OPENSOCKETFUNCTION), so odd address spellings and DNS rebinding do not help;
// - redirects are followed here, one hop at a time, each hop's scheme checked, up to
//   tools_config::http_max_redirects;
// - the body is cut off at tools_config::http_max_bytes, the whole fetch at the smaller of
//   tools_config::http_timeout and the tool context's timeout;
// - proxies from the environment are ignored (a proxy would hide the real destination).
//
// Thread-safety: http_fetch may run on many threads at once; each call has its own curl
// handles. It blocks the calling thread (a worker, never an I/O thread) until done, and
// returns promptly once ctx.stop is requested.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/result.h"
#include "tools/address_policy.h"
#include "tools/tool.h"

namespace grok::tools {

struct http_response {
  long status = 0;
  std::string content_type;  // as sent, e.g. "text/html; charset=utf-8"; may be empty
  std::string final_url;     // after redirects
  std::string body;          // raw bytes, at most http_max_bytes
};

// GETs `url`, following redirects. Errors, each with a message meant for the model:
//   errc::invalid_argument — malformed URL, a scheme other than http/https, an address the
//     policy refuses, or a body over the size limit (none retryable);
//   errc::unavailable — a final status other than 2xx (retryable for 5xx and 429), too many
//     redirects, or a connection / TLS / DNS failure (retryable unless it is a TLS failure);
//   errc::timeout (retryable); errc::cancelled when ctx.stop was requested.
[[nodiscard]] result<http_response> http_fetch(const tools_config& config,
                                               const address_policy& policy, std::string_view url,
                                               const tool_context& ctx);

// The charset parameter of a Content-Type, lower case; empty when absent.
[[nodiscard]] std::string content_type_charset(std::string_view content_type);

// Whether a body of this type is text worth showing (text/*, JSON, XML, JavaScript, ...;
// with no type, a body without NUL bytes).
[[nodiscard]] bool is_text_content(std::string_view content_type, std::string_view body);

// The body as valid UTF-8: ISO-8859-1 / windows-1252 bodies converted, invalid UTF-8
// sequences otherwise replaced with U+FFFD.
[[nodiscard]] std::string body_text(const http_response& response);

// The `http_get` tool: {"url": string} → "HTTP <status> <content-type>\n\n<body>", or a
// short note instead of a binary body. An http_allow entry the policy cannot parse makes
// every call fail with errc::invalid_argument naming it.
std::unique_ptr<tool> make_http_get_tool(const tools_config& config);

}  // namespace grok::tools
