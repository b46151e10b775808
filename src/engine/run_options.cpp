#include "engine/run_options.h"

#include <algorithm>
#include <cmath>

namespace grok::engine {

using json = nlohmann::json;

json run_options::to_json() const {
  json out = {{"tools", tools},
              {"max_steps", max_steps},
              {"max_replans", max_replans},
              {"token_budget", token_budget},
              {"deadline_s", static_cast<double>(deadline.count()) / 1000.0},
              {"step_timeout_s", static_cast<double>(step_timeout.count()) / 1000.0},
              {"require_approval", require_approval}};
  if (planner_model) out["planner_model"] = *planner_model;
  if (solver_model) out["solver_model"] = *solver_model;
  if (temperature) out["temperature"] = *temperature;
  return out;
}

namespace {

tl::unexpected<error> bad(std::string_view key, std::string_view why) {
  return fail(errc::invalid_argument, "options." + std::string(key) + ": " + std::string(why));
}

result<double> number_in(const json& v, std::string_view key, double lo, double hi) {
  if (!v.is_number()) return bad(key, "expected a number");
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || d > hi) {
    return bad(key, "must be from " + json(lo).dump() + " to " + json(hi).dump());
  }
  return d;
}

result<std::int64_t> integer_in(const json& v, std::string_view key, std::int64_t lo,
                                std::int64_t hi) {
  if (!v.is_number_integer()) return bad(key, "expected an integer");
  const auto i = v.get<std::int64_t>();
  if (i < lo || i > hi) {
    return bad(key, "must be from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return i;
}

result<std::string> model_name(const json& v, std::string_view key) {
  if (!v.is_string()) return bad(key, "expected a string");
  const auto& s = v.get_ref<const std::string&>();
  if (s.empty() || s.size() > 200) return bad(key, "must be 1 to 200 characters");
  return s;
}

}  // namespace

result<run_options> parse_run_options(const json& doc, const engine_config& defaults,
                                      const tools::tool_registry& tools) {
  run_options o;
  o.max_steps = defaults.max_steps;
  o.max_replans = defaults.max_replans;
  o.token_budget = defaults.token_budget;
  o.deadline = defaults.deadline;
  o.step_timeout = defaults.step_timeout;
  if (doc.is_null()) return o;
  if (!doc.is_object()) return fail(errc::invalid_argument, "options: expected an object");
  for (const auto& [key, v] : doc.items()) {
    if (key == "planner_model" || key == "solver_model") {
      auto name = model_name(v, key);
      if (!name) return tl::unexpected(name.error());
      (key == "planner_model" ? o.planner_model : o.solver_model) = *name;
    } else if (key == "tools") {
      if (!v.is_array()) return bad(key, "expected an array of tool names");
      if (v.empty()) return bad(key, "must name at least one tool");
      for (const auto& t : v) {
        if (!t.is_string()) return bad(key, "expected an array of tool names");
        const auto& name = t.get_ref<const std::string&>();
        if (tools.find(name) == nullptr) {
          return bad(key, "unknown tool '" + name.substr(0, 64) + "'");
        }
        if (std::find(o.tools.begin(), o.tools.end(), name) == o.tools.end())
          o.tools.push_back(name);
      }
    } else if (key == "max_steps") {
      auto n = integer_in(v, key, 1, 64);
      if (!n) return tl::unexpected(n.error());
      o.max_steps = static_cast<int>(*n);
    } else if (key == "max_replans") {
      auto n = integer_in(v, key, 0, 10);
      if (!n) return tl::unexpected(n.error());
      o.max_replans = static_cast<int>(*n);
    } else if (key == "token_budget") {
      auto n = integer_in(v, key, 0, 1'000'000'000);
      if (!n) return tl::unexpected(n.error());
      o.token_budget = *n;
    } else if (key == "deadline_s") {
      auto d = number_in(v, key, 0.1, 7 * 86'400);
      if (!d) return tl::unexpected(d.error());
      o.deadline = std::chrono::milliseconds(static_cast<std::int64_t>(*d * 1000));
    } else if (key == "step_timeout_s") {
      auto d = number_in(v, key, 0.01, 86'400);
      if (!d) return tl::unexpected(d.error());
      o.step_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(*d * 1000));
    } else if (key == "temperature") {
      auto d = number_in(v, key, 0, 2);
      if (!d) return tl::unexpected(d.error());
      o.temperature = *d;
    } else if (key == "require_approval") {
      if (!v.is_boolean()) return bad(key, "expected true or false");
      o.require_approval = v.get<bool>();
    } else {
      return fail(errc::invalid_argument,
                  "options: unknown option '" + key.substr(0, 64) +
                      "' (planner_model, solver_model, tools, max_steps, max_replans, "
                      "token_budget, deadline_s, step_timeout_s, temperature, require_approval)");
    }
  }
  return o;
}

result<run_options> stored_run_options(std::string_view text) try {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail(errc::corrupt, "the run's stored options are not a JSON object");
  }
  run_options o;
  if (auto v = doc.find("planner_model"); v != doc.end() && v->is_string()) o.planner_model = *v;
  if (auto v = doc.find("solver_model"); v != doc.end() && v->is_string()) o.solver_model = *v;
  if (auto v = doc.find("tools"); v != doc.end() && v->is_array()) {
    for (const auto& t : *v) {
      if (t.is_string()) o.tools.push_back(t.get<std::string>());
    }
  }
  o.max_steps = doc.value("max_steps", o.max_steps);
  o.max_replans = doc.value("max_replans", o.max_replans);
  o.token_budget = doc.value("token_budget", o.token_budget);
  o.deadline =
      std::chrono::milliseconds(static_cast<std::int64_t>(doc.value("deadline_s", 600.0) * 1000));
  o.step_timeout = std::chrono::milliseconds(
      static_cast<std::int64_t>(doc.value("step_timeout_s", 60.0) * 1000));
  if (auto v = doc.find("temperature"); v != doc.end() && v->is_number())
    o.temperature = v->get<double>();
  o.require_approval = doc.value("require_approval", false);
  return o;
} catch (const json::exception& e) {
  // value() throws on a field of the wrong type: only a corrupted row can have one.
  return fail(errc::corrupt, std::string("the run's stored options are damaged: ") + e.what());
}

}  // namespace grok::engine
