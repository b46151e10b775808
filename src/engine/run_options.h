// A run's options (SPEC §3): what the creator asked for, with the server's defaults filled
// in when the run is created and stored with it, so a run behaves the same after a
// restart even if the configuration changed.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "tools/tool.h"

namespace grok::engine {

struct run_options {
  std::optional<std::string> planner_model;  // empty: the configured planner model
  std::optional<std::string> solver_model;
  std::vector<std::string> tools;  // allow-list; empty: every tool
  int max_steps = 8;
  int max_replans = 1;
  std::int64_t token_budget = 0;  // 0: no limit
  std::chrono::milliseconds deadline{600'000};
  std::chrono::milliseconds step_timeout{60'000};
  std::optional<double> temperature;  // for the solver and the llm tool
  bool require_approval = false;

  [[nodiscard]] nlohmann::json to_json() const;
};

// Parses the "options" object of a run request. Unknown keys, wrong types and values out
// of range are errc::invalid_argument naming the option; `tools` entries must be
// registered tools.
[[nodiscard]] result<run_options> parse_run_options(const nlohmann::json& doc,
                                                    const engine_config& defaults,
                                                    const tools::tool_registry& tools);

// Reads options stored by to_json() (already validated when the run was created).
[[nodiscard]] result<run_options> stored_run_options(std::string_view text);

}  // namespace grok::engine
