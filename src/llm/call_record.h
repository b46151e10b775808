// Turning model calls into stored records and back: the normalized request hash that
// replay looks calls up by, and chat_response <-> JSON.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "llm/chat_types.h"

namespace grok::llm {

// The request as canonical JSON (sorted keys, streaming flags removed: a streamed and a
// plain call with the same content are the same question).
[[nodiscard]] result<std::string> normalized_request(const chat_request& request);

// Hex SHA-256 of normalized_request().
[[nodiscard]] result<std::string> request_hash(const chat_request& request);

[[nodiscard]] std::string response_to_json(const chat_response& response);
// errc::corrupt when the stored text is not a response written by response_to_json.
[[nodiscard]] result<chat_response> response_from_json(std::string_view text);

}  // namespace grok::llm
