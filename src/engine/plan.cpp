#include "engine/plan.h"

#include <algorithm>
#include <functional>

#include "core/embedded_files.h"
#include "core/json_schema.h"

namespace grok::engine {

using json = nlohmann::json;

namespace {

const json& base_plan_schema() {
  static const json schema = json::parse(*embedded_file("schemas/plan.schema.json"));
  return schema;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Calls `on_ref(begin, length, id)` for every #En in `text`.
template <class F>
void scan_refs(std::string_view text, F on_ref) {
  for (std::size_t i = 0; i + 2 < text.size(); ++i) {
    if (text[i] != '#' || text[i + 1] != 'E' || !is_digit(text[i + 2])) continue;
    std::size_t end = i + 2;
    while (end < text.size() && is_digit(text[end])) ++end;
    on_ref(i, end - i, std::string(text.substr(i + 1, end - i - 1)));
    i = end - 1;
  }
}

void collect_refs(const json& value, std::set<std::string>& out) {
  if (value.is_string()) {
    scan_refs(value.get_ref<const std::string&>(),
              [&](std::size_t, std::size_t, std::string id) { out.insert(std::move(id)); });
  } else if (value.is_array() || value.is_object()) {
    for (const auto& item : value) collect_refs(item, out);
  }
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

json plan::to_json() const {
  json steps_json = json::array();
  for (const auto& s : steps)
    steps_json.push_back({{"id", s.id}, {"tool", s.tool}, {"args", s.args}});
  return {{"steps", std::move(steps_json)}};
}

std::set<std::string> evidence_refs(const json& args) {
  std::set<std::string> out;
  collect_refs(args, out);
  return out;
}

json plan_schema(const tools::tool_registry& tools, const plan_rules& rules) {
  json schema = base_plan_schema();
  json names = json::array();
  for (const auto* t : tools.list()) {
    const std::string name(t->name());
    if (rules.allowed_tools.empty() ||
        std::find(rules.allowed_tools.begin(), rules.allowed_tools.end(), name) !=
            rules.allowed_tools.end()) {
      names.push_back(name);
    }
  }
  auto& steps = schema["properties"]["steps"];
  steps["maxItems"] = rules.max_steps;
  steps["items"]["properties"]["tool"]["enum"] = std::move(names);
  return schema;
}

result<plan> parse_plan(std::string_view text, const tools::tool_registry& tools,
                        const plan_rules& rules) {
  // Models often wrap JSON in a Markdown fence despite being asked not to.
  auto trimmed = text;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front())))
    trimmed.remove_prefix(1);
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back())))
    trimmed.remove_suffix(1);
  if (trimmed.starts_with("```")) {
    auto first_newline = trimmed.find('\n');
    auto last_fence = trimmed.rfind("```");
    if (first_newline != std::string_view::npos && last_fence > first_newline) {
      trimmed = trimmed.substr(first_newline + 1, last_fence - first_newline - 1);
    }
  }
  json doc = json::parse(trimmed, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    std::string excerpt(text.substr(0, 120));
    return fail(errc::invalid_argument,
                "the plan is not valid JSON (it starts with: " +
                    json(excerpt).dump(-1, ' ', true, json::error_handler_t::replace) + ")");
  }
  return validate_plan(doc, tools, rules);
}

result<plan> validate_plan(const json& doc, const tools::tool_registry& tools,
                           const plan_rules& rules) {
  auto bad = [](std::string why) { return fail(errc::invalid_argument, std::move(why)); };
  if (doc.is_object() && doc.contains("steps") && doc["steps"].is_array()) {
    const auto n = doc["steps"].size();
    if (n > static_cast<std::size_t>(rules.max_steps)) {
      return bad("the plan has " + std::to_string(n) + " steps; the limit is " +
                 std::to_string(rules.max_steps));
    }
  }
  static const auto schema = json_schema::compile(base_plan_schema());
  if (auto valid = schema->validate(doc); !valid) {
    return bad("the plan does not match the plan schema: " + valid.error().message);
  }

  plan out;
  std::set<std::string> seen = rules.existing_evidence;
  std::map<std::string, std::size_t> position;
  for (const auto& step_json : doc["steps"]) {
    plan_step step;
    step.id = step_json["id"].get<std::string>();
    step.tool = step_json["tool"].get<std::string>();
    step.args = step_json["args"];
    if (rules.existing_evidence.contains(step.id)) {
      return bad("step " + step.id + " reuses the id of existing evidence #" + step.id);
    }
    if (rules.used_ids.contains(step.id)) {
      return bad("step " + step.id + " reuses the id of an earlier step; number new steps after " +
                 "the ones before");
    }
    if (position.contains(step.id)) return bad("two steps have the id " + step.id);
    position[step.id] = out.steps.size();
    step.refs = evidence_refs(step.args);
    out.steps.push_back(std::move(step));
  }

  std::vector<std::string> allowed;
  for (const auto* t : tools.list()) {
    const std::string name(t->name());
    if (rules.allowed_tools.empty() ||
        std::find(rules.allowed_tools.begin(), rules.allowed_tools.end(), name) !=
            rules.allowed_tools.end()) {
      allowed.push_back(name);
    }
  }
  for (const auto& step : out.steps) {
    if (tools.find(step.tool) == nullptr) {
      return bad("step " + step.id + " uses the unknown tool '" + step.tool +
                 "' (available: " + join(allowed) + ")");
    }
    if (std::find(allowed.begin(), allowed.end(), step.tool) == allowed.end()) {
      return bad("step " + step.id + " uses the tool '" + step.tool +
                 "', which this run does not allow (allowed: " + join(allowed) + ")");
    }
  }

  // References: a cycle is reported as such; then unknown and forward references.
  std::map<std::string, int> state;  // 0 unvisited, 1 on the path, 2 done
  std::vector<std::string> path;
  std::function<std::optional<std::string>(const std::string&)> visit =
      [&](const std::string& id) -> std::optional<std::string> {
    state[id] = 1;
    path.push_back(id);
    for (const auto& ref : out.steps[position[id]].refs) {
      if (!position.contains(ref)) continue;
      if (state[ref] == 1) {
        std::string cycle;
        auto from = std::find(path.begin(), path.end(), ref);
        for (auto it = from; it != path.end(); ++it) cycle += *it + " -> ";
        return cycle + ref;
      }
      if (state[ref] == 0) {
        if (auto found = visit(ref)) return found;
      }
    }
    path.pop_back();
    state[id] = 2;
    return std::nullopt;
  };
  for (const auto& step : out.steps) {
    if (state[step.id] != 0) continue;
    if (auto cycle = visit(step.id)) return bad("the plan has a cycle: " + *cycle);
  }
  for (const auto& step : out.steps) {
    for (const auto& ref : step.refs) {
      if (rules.existing_evidence.contains(ref)) continue;
      if (!position.contains(ref)) {
        return bad("step " + step.id + " refers to #" + ref + ", which no step produces");
      }
      if (position[ref] > position[step.id]) {
        return bad("step " + step.id + " refers to #" + ref +
                   ", a later step (a step may use only earlier evidence)");
      }
    }
    // Arguments are checked with references in place: a #En stands for a string.
    if (auto valid = tools.validate_args(step.tool, step.args); !valid) {
      return bad("step " + step.id + ": " + valid.error().message);
    }
  }
  return out;
}

result<json> substitute_evidence(const json& args,
                                 const std::map<std::string, std::string, std::less<>>& evidence) {
  if (args.is_string()) {
    const auto& text = args.get_ref<const std::string&>();
    std::string out;
    std::size_t copied = 0;
    std::optional<std::string> missing;
    scan_refs(text, [&](std::size_t begin, std::size_t length, const std::string& id) {
      auto it = evidence.find(id);
      if (it == evidence.end()) {
        missing = id;
        return;
      }
      out.append(text, copied, begin - copied);
      out += it->second;
      copied = begin + length;
    });
    if (missing) return fail(errc::not_found, "evidence #" + *missing + " is not available");
    out.append(text, copied, std::string::npos);
    return json(std::move(out));
  }
  if (args.is_array() || args.is_object()) {
    json out = args;
    for (auto it = out.begin(); it != out.end(); ++it) {
      auto replaced = substitute_evidence(*it, evidence);
      if (!replaced) return replaced;
      *it = std::move(*replaced);
    }
    return out;
  }
  return args;
}

}  // namespace grok::engine
