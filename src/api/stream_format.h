// How a stored event goes on the wire for the streams (SPEC §3, §4): the envelope as JSON
// text (one WebSocket text frame) and as a Server-Sent Events frame. Live events are
// formatted once by the fan-out thread and shared by every session; catch-up pages use the
// same functions, so both paths send identical bytes.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "store/run_types.h"

namespace grok::api::detail {

// The SSE comment sent on an idle connection.
inline constexpr std::string_view k_sse_heartbeat = ": keep-alive\n\n";

// engine::envelope(e) as compact JSON (invalid UTF-8 replaced, never throws on content).
[[nodiscard]] std::string event_json(const store::event_record& e);

// "id: <seq>\nevent: <type>\ndata: <json>\n\n" (line breaks in the type are dropped so
// that they cannot break the framing; the JSON text has none).
[[nodiscard]] std::string sse_frame(const store::event_record& e, std::string_view json);

}  // namespace grok::api::detail
