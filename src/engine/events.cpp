#include "engine/events.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace grok::engine {

using json = nlohmann::json;

store::event_draft make_event(std::string_view run_id, std::string_view type, time_point ts,
                              const json& body, std::optional<std::string> step_id,
                              std::optional<std::string> name) {
  store::event_draft e;
  e.run_id = std::string(run_id);
  e.type = std::string(type);
  e.ts = ts;
  e.step_id = std::move(step_id);
  e.name = std::move(name);
  e.body_json = body.is_null() ? "{}" : body.dump(-1, ' ', false, json::error_handler_t::replace);
  return e;
}

json envelope(const store::event_record& e) {
  json out = {{"schema", k_event_schema}, {"event", e.type}, {"seq", e.seq}, {"run_id", e.run_id}};
  if (e.step_id) out["step_id"] = *e.step_id;
  if (e.name) out["name"] = *e.name;
  out["ts"] = iso_time(e.ts);
  json body = json::parse(e.body_json, nullptr, /*allow_exceptions=*/false);
  if (body.is_object()) {
    for (auto& [key, value] : body.items()) {
      if (!out.contains(key)) out[key] = std::move(value);
    }
  }
  return out;
}

std::string iso_time(time_point t) {
  const auto ms = to_unix_ms(t);
  const auto secs =
      std::chrono::sys_seconds(std::chrono::seconds(ms / 1000 - (ms % 1000 < 0 ? 1 : 0)));
  const auto frac = ((ms % 1000) + 1000) % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", secs, frac);
}

bool is_terminal_event(std::string_view type) {
  return type == "run.completed" || type == "run.failed" || type == "run.cancelled";
}

}  // namespace grok::engine
