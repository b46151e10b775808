// Run events (SPEC §4, schema 1): building them for the store and rendering stored ones
// as the envelope clients see. Schemas of every type live in schemas/events/.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "store/run_types.h"

namespace grok::engine {

inline constexpr int k_event_schema = 1;

// An event for `run_id` with `body` holding the fields beyond the envelope's own.
[[nodiscard]] store::event_draft make_event(std::string_view run_id, std::string_view type,
                                            time_point ts, const nlohmann::json& body,
                                            std::optional<std::string> step_id = std::nullopt,
                                            std::optional<std::string> name = std::nullopt);

// The envelope of a stored event: {"schema", "event", "seq", "run_id", "step_id"?,
// "name"?, "ts", ...body}.
[[nodiscard]] nlohmann::json envelope(const store::event_record& e);

// RFC 3339 UTC with milliseconds: "2026-11-25T08:10:00.123Z".
[[nodiscard]] std::string iso_time(time_point t);

// True for run.completed, run.failed and run.cancelled: nothing follows them.
[[nodiscard]] bool is_terminal_event(std::string_view type);

}  // namespace grok::engine
