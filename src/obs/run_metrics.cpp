#include "obs/run_metrics.h"

#include <nlohmann/json.hpp>

namespace grok::obs {
namespace {

using json = nlohmann::json;

constexpr std::string_view k_planner = "planner";
constexpr std::string_view k_solver = "solver";
constexpr std::string_view k_unknown = "unknown";

// The parts of an event body these metrics read: "tool" and "metrics". The rest (a
// step's outputs, an error message) is skipped while parsing, so a large tool output
// costs a scan but no allocations while the store's write lock is held.
json parse_body(const std::string& body_json) {
  const json::parser_callback_t keep = [](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1) {
      return parsed == "tool" || parsed == "metrics";
    }
    return true;
  };
  return json::parse(body_json, keep, /*allow_exceptions=*/false);
}

std::string_view run_status_of(std::string_view type) {
  if (type == "run.completed") return "completed";
  if (type == "run.failed") return "failed";
  if (type == "run.cancelled") return "cancelled";
  return {};
}

}  // namespace

run_metrics::run_metrics(registry& r)
    : created_(r.counter("grok_runs_created_total", "Runs accepted.")),
      finished_(r.counter("grok_runs_total", "Runs ended, by final status.", {"status"})),
      steps_(r.counter("grok_steps_total",
                       "Steps ended, by tool (planner and solver for the model steps) and status.",
                       {"tool", "status"})),
      step_duration_(r.histogram("grok_step_duration_seconds",
                                 "Time a step's last attempt took, by tool (planner and solver "
                                 "for the model steps).",
                                 {"tool"})),
      retries_(r.counter("grok_step_retries_total", "Step attempts that failed and are retried.",
                         {"tool"})) {}

void run_metrics::on_events(const std::vector<store::event_record>& events) {
  const std::lock_guard lock(mutex_);
  for (const auto& e : events) on_event(e);
}

void run_metrics::on_event(const store::event_record& e) {
  const std::string_view type = e.type;
  if (type == "run.created") {
    created_.inc();
    return;
  }
  if (auto status = run_status_of(type); !status.empty()) {
    finished_.inc({status});
    step_tools_.erase(e.run_id);
    return;
  }
  if (!e.step_id) return;

  if (type == "step.started") {
    const auto body = parse_body(e.body_json);
    std::string tool;
    if (body.is_object() && body.contains("tool") && body["tool"].is_string()) {
      tool = std::string(tools_guard_.admit(body["tool"].get_ref<const std::string&>()));
    }
    if (tool.empty()) tool = tool_of(e);  // a model step: from its name
    auto it = step_tools_.find(e.run_id);
    if (it == step_tools_.end()) {
      if (step_tools_.size() >= k_max_tracked_runs) step_tools_.erase(step_tools_.begin());
      it = step_tools_.emplace(e.run_id, std::map<std::string, std::string>{}).first;
    }
    it->second[*e.step_id] = std::move(tool);
    return;
  }
  if (type == "step.retrying") {
    retries_.inc({tool_of(e)});
    return;
  }
  if (type == "step.completed" || type == "step.failed") {
    const auto tool = tool_of(e);
    steps_.inc({tool, type == "step.completed" ? "completed" : "failed"});
    const auto body = parse_body(e.body_json);
    if (body.is_object() && body.contains("metrics") && body["metrics"].is_object()) {
      const auto& m = body["metrics"];
      if (m.contains("latency_ms") && m["latency_ms"].is_number() && m["latency_ms"] >= 0) {
        step_duration_.observe({tool}, m["latency_ms"].get<double>() / 1000.0);
      }
    }
    forget_step(e);
  }
}

std::string run_metrics::tool_of(const store::event_record& e) const {
  if (auto run = step_tools_.find(e.run_id); run != step_tools_.end() && e.step_id) {
    if (auto step = run->second.find(*e.step_id); step != run->second.end()) return step->second;
  }
  const std::string_view name = e.name ? std::string_view(*e.name) : std::string_view{};
  if (name == k_planner || name.starts_with("replanner.")) return std::string(k_planner);
  if (name == k_solver) return std::string(k_solver);
  return std::string(k_unknown);
}

void run_metrics::forget_step(const store::event_record& e) {
  auto run = step_tools_.find(e.run_id);
  if (run == step_tools_.end()) return;
  run->second.erase(*e.step_id);
  if (run->second.empty()) step_tools_.erase(run);
}

}  // namespace grok::obs
