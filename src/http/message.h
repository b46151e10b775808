// Converting between Beast messages and the plain api:: types: the request the handler
// sees, and the response written back. No I/O and no coroutines, so that the request
// fuzzer can use it too. Private to src/http (and the fuzzer).
// Thread-safety: the functions touch only their arguments.
#pragma once

#include <string>

#include "api/http_types.h"
#include "http/beast.h"

namespace grok::http {

using beast_request = bhttp::request<bhttp::string_body>;

// The request as the handler sees it; moves the body out of `req`.
[[nodiscard]] api::http_request to_api_request(beast_request& req, const std::string& remote);

// Copies the handler's headers into `fields`, skipping the framing headers the transport
// owns (Content-Length, Transfer-Encoding, Connection, Upgrade, ...) and any name or value
// that could split the message (CR, LF, NUL).
void apply_headers(bhttp::fields& fields, const api::header_list& headers);

// The status line for `status`; out-of-range codes become 500 (logged).
void set_status(bhttp::response_header<>& head, int status);

// The whole response for a handler's (or the transport's) answer. For HEAD requests the
// Content-Length of the body is kept and the body dropped.
[[nodiscard]] bhttp::response<bhttp::string_body> to_beast_response(api::http_response res,
                                                                    unsigned version,
                                                                    bool keep_alive,
                                                                    bool head_only);

}  // namespace grok::http
