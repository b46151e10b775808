// Plans (SPEC §5): parsing, validation and evidence references.
//
// A plan is {"steps": [{"id": "E1", "tool": "...", "args": {...}}]}. A string anywhere in
// a step's args may name earlier evidence as #E1; substitution replaces those names
// inside string values only, so a tool's output can never change the structure of a
// later step's arguments (no template injection).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "tools/tool.h"

namespace grok::engine {

struct plan_step {
  std::string id;  // "E1"
  std::string tool;
  nlohmann::json args = nlohmann::json::object();
  std::set<std::string> refs;  // evidence ids its args name
};

struct plan {
  std::vector<plan_step> steps;
  [[nodiscard]] nlohmann::json to_json() const;
};

struct plan_rules {
  int max_steps = 8;
  std::vector<std::string> allowed_tools;  // empty: every registered tool
  // Evidence that exists already (from before a replan): steps may refer to it, and new
  // steps may not reuse its ids.
  std::set<std::string> existing_evidence;
  // Ids of earlier steps without evidence (failed, dropped): new steps may not reuse them
  // either, as every step of a run keeps its own id.
  std::set<std::string> used_ids;
};

// The plan JSON Schema with the tool names and step limit of these rules filled in: what
// the planner is asked to follow (structured output).
[[nodiscard]] nlohmann::json plan_schema(const tools::tool_registry& tools,
                                         const plan_rules& rules);

// Parses and validates a planner's output. errc::invalid_argument with a message meant for
// both the user and the repair prompt: not JSON, schema errors, too many steps, duplicate
// ids, unknown or disallowed tools, arguments that do not match a tool's schema,
// references to unknown, later or own evidence, cycles.
[[nodiscard]] result<plan> parse_plan(std::string_view text, const tools::tool_registry& tools,
                                      const plan_rules& rules);
[[nodiscard]] result<plan> validate_plan(const nlohmann::json& doc,
                                         const tools::tool_registry& tools,
                                         const plan_rules& rules);

// The evidence ids (#E1 → "E1") named in string values anywhere in `args`.
[[nodiscard]] std::set<std::string> evidence_refs(const nlohmann::json& args);

// `args` with every #En inside string values replaced by evidence.at("En").
// errc::not_found when a named evidence is missing.
[[nodiscard]] result<nlohmann::json> substitute_evidence(
    const nlohmann::json& args, const std::map<std::string, std::string, std::less<>>& evidence);

}  // namespace grok::engine
