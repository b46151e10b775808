// The JSON shapes the HTTP API returns (SPEC §3; fields may be added, never renamed): runs,
// steps, tools, queue statistics and dead jobs, built from the store's records. Stored JSON
// text (options, args) is parsed back so clients get objects, not strings.
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "store/queue_types.h"
#include "store/run_types.h"
#include "tools/tool.h"

namespace grok::api {

// {"id", "status", "input", "options", "answer", "error", "created_at", "started_at",
//  "finished_at", "usage"}: the list view.
[[nodiscard]] nlohmann::json run_json(const store::run_record& run);

// The single-run view: run_json plus "steps".
[[nodiscard]] nlohmann::json run_json(const store::run_record& run,
                                      const std::vector<store::step_record>& steps);

[[nodiscard]] nlohmann::json step_json(const store::step_record& step);

// {"name", "description", "parameters"}.
[[nodiscard]] nlohmann::json tool_json(const tools::tool& t);

// {"depth": [{"topic", "state", "count"}], "visible", "oldest_visible_lag_ms"}.
[[nodiscard]] nlohmann::json queue_stats_json(const store::queue_stats& stats);

// {"id", "topic", "state", "attempts", "max_attempts", "last_error", "payload",
//  "created_at", "updated_at"}.
[[nodiscard]] nlohmann::json job_json(const store::job& j);

}  // namespace grok::api
