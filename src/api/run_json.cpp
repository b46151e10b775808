#include "api/run_json.h"

#include "engine/events.h"

namespace grok::api {

using json = nlohmann::json;

namespace {

json time_or_null(const std::optional<time_point>& t) {
  return t ? json(engine::iso_time(*t)) : json(nullptr);
}

json text_or_null(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

// Stored JSON text as a value; text that does not parse (never written by GROK) is returned
// as a string rather than lost.
json parsed_or_text(const std::string& text) {
  json v = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return v.is_discarded() ? json(text) : v;
}

}  // namespace

json run_json(const store::run_record& run) {
  json error = nullptr;
  if (run.error_code || run.error_message) {
    error = {{"code", run.error_code.value_or("error")},
             {"message", run.error_message.value_or("")}};
  }
  return {{"id", run.id},
          {"status", std::string(store::to_string(run.status))},
          {"input", run.input},
          {"options", parsed_or_text(run.options_json)},
          {"answer", text_or_null(run.answer)},
          {"error", std::move(error)},
          {"created_at", engine::iso_time(run.created_at)},
          {"started_at", time_or_null(run.started_at)},
          {"finished_at", time_or_null(run.finished_at)},
          {"usage",
           {{"tokens_in", run.tokens_in}, {"tokens_out", run.tokens_out}, {"cost", run.cost}}}};
}

json run_json(const store::run_record& run, const std::vector<store::step_record>& steps) {
  json out = run_json(run);
  out["steps"] = json::array();
  for (const auto& s : steps) out["steps"].push_back(step_json(s));
  return out;
}

json step_json(const store::step_record& step) {
  return {{"id", step.id},
          {"name", step.name},
          {"tool", text_or_null(step.tool)},
          {"args", parsed_or_text(step.args_json)},
          {"status", step.status},
          {"attempts", step.attempts},
          {"output", text_or_null(step.output)},
          {"output_artifact_id", text_or_null(step.output_artifact_id)},
          {"error", text_or_null(step.error)},
          {"started_at", time_or_null(step.started_at)},
          {"finished_at", time_or_null(step.finished_at)},
          {"tokens_in", step.tokens_in},
          {"tokens_out", step.tokens_out},
          {"latency_ms", step.latency_ms},
          {"prompt_version", text_or_null(step.prompt_version)}};
}

json tool_json(const tools::tool& t) {
  return {{"name", std::string(t.name())},
          {"description", std::string(t.description())},
          {"parameters", t.parameters()}};
}

json queue_stats_json(const store::queue_stats& stats) {
  json depth = json::array();
  for (const auto& d : stats.depth) {
    depth.push_back({{"topic", d.topic},
                     {"state", std::string(store::to_string(d.state))},
                     {"count", d.count}});
  }
  return {{"depth", std::move(depth)},
          {"visible", stats.visible},
          {"oldest_visible_lag_ms",
           stats.oldest_visible_lag ? json(stats.oldest_visible_lag->count()) : json(nullptr)}};
}

json job_json(const store::job& j) {
  return {{"id", j.id},
          {"topic", j.topic},
          {"state", std::string(store::to_string(j.state))},
          {"attempts", j.attempts},
          {"max_attempts", j.max_attempts},
          {"last_error", text_or_null(j.last_error)},
          {"payload", parsed_or_text(j.payload)},
          {"created_at", engine::iso_time(j.created_at)},
          {"updated_at", engine::iso_time(j.updated_at)}};
}

}  // namespace grok::api
