// The OpenAI-compatible chat-completions wire format: request bodies out, response bodies
// in. Pure functions, no I/O; every byte from the server is treated as untrusted.
#pragma once

#include <string>
#include <string_view>

#include "llm/chat_types.h"
#include "llm/llm_error.h"

namespace grok::llm {

// The JSON body for POST {base}/chat/completions. errc::invalid_argument when the JSON
// Schema for structured output is not valid JSON.
[[nodiscard]] result<std::string> build_request_body(const chat_request& request);

// Parses a non-streaming response body.
[[nodiscard]] llm_result<chat_response> parse_response_body(std::string_view body);

// The server's error message from an error body ({"error": {"message": …}} or
// {"error": "…"}), else a safe excerpt of the body.
[[nodiscard]] std::string error_message_from_body(std::string_view body);

// At most `max_bytes` of `text`, cut on a UTF-8 boundary, with control characters and
// invalid bytes replaced, so it is safe to put in a log line or an error message.
[[nodiscard]] std::string safe_excerpt(std::string_view text, std::size_t max_bytes = 300);

// Replaces every invalid UTF-8 sequence with U+FFFD. Hand-written (about 40 lines) because
// no packaged library does only this without pulling in ICU; models do emit broken UTF-8.
[[nodiscard]] std::string sanitize_utf8(std::string_view text);

}  // namespace grok::llm
