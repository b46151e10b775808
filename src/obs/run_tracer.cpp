#include "obs/run_tracer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <unordered_map>

#include "obs/metrics.h"
#include "obs/trace_context.h"

namespace grok::obs {
namespace {

using json = nlohmann::json;

constexpr std::int64_t k_nanos_per_ms = 1'000'000;

std::int64_t unix_nanos(time_point t) { return to_unix_ms(t) * k_nanos_per_ms; }

bool is_run_end(std::string_view type) {
  return type == "run.completed" || type == "run.failed" || type == "run.cancelled";
}

bool is_step_end(std::string_view type) {
  return type == "step.completed" || type == "step.failed" || type == "step.retrying";
}

// The event types spans are built from.
bool is_traced(std::string_view type) {
  return type == "run.created" || type == "step.started" || type == "tool.requested" ||
         type == "tool.result" || is_step_end(type) || is_run_end(type);
}

// Bodies read for their fields; run.created's (the task text) and step.completed's (the
// outputs) are not needed, so they are not copied under the store's lock.
bool body_needed(std::string_view type) {
  return type != "run.created" && type != "step.completed";
}

json parse_body(const std::string& text) {
  auto doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return doc.is_object() ? doc : json::object();
}

std::string string_field(const json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::int64_t> int_field(const json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

}  // namespace

// Everything the tracer's thread knows about one unfinished run.
struct run_tracer::run_state {
  std::string run_id;
  std::string trace_id;
  std::string parent_span_id;  // the caller's span; empty for a run with its own trace
  std::string span_id;
  bool sampled = true;
  std::int64_t start_ns = 0;
  std::uint64_t last_active = 0;

  struct open_step {
    std::string span_id;
    std::string name;
    std::string tool;
    std::int64_t attempt = 0;
    std::int64_t start_ns = 0;
    // The attempt's tool call once it ended: model calls inside it (the llm tool's) are
    // its children.
    std::string tool_span_id;
    std::int64_t tool_start_ns = 0;
    std::int64_t tool_end_ns = 0;
  };
  struct open_tool {
    std::string span_id;
    std::string parent_span_id;
    std::string tool;
    std::string call_id;
    std::int64_t start_ns = 0;
  };
  std::map<std::string, open_step> steps;  // by step id
  std::map<std::string, open_tool> tools;  // by step id
  std::set<std::string> calls_done;        // model calls already sent
};

// The thread's side: run states and the span building.
struct run_tracer::builder {
  store::store& st;
  const span_sink& sink;
  std::size_t max_runs;
  std::unordered_map<std::string, run_state> runs;
  std::uint64_t activity = 0;  // orders runs by their last event, to forget the oldest

  [[nodiscard]] span make_span(const run_state& run, std::string span_id, std::string parent,
                               std::string name, std::int64_t start_ns, std::int64_t end_ns) const {
    span s;
    s.trace_id = run.trace_id;
    s.span_id = std::move(span_id);
    s.parent_span_id = std::move(parent);
    s.name = std::move(name);
    s.start_unix_nano = start_ns;
    s.end_unix_nano = std::max(start_ns, end_ns);
    return s;
  }

  // The run's state, read from the store the first time one of its events is seen (the
  // run may have been created by another process, or before a restart).
  run_state* state_of(const std::string& run_id) {
    if (auto it = runs.find(run_id); it != runs.end()) {
      it->second.last_active = ++activity;
      return &it->second;
    }
    auto found = st.get_run(run_id);
    if (!found) {
      spdlog::warn("tracing: reading run {} failed: {}", run_id, describe(found.error()));
      return nullptr;
    }
    if (!*found) return nullptr;
    const auto& record = **found;
    run_state state;
    state.run_id = run_id;
    state.span_id = derived_span_id("grok.run/" + run_id);
    state.start_ns = unix_nanos(record.created_at);
    std::optional<trace_context> caller;
    if (record.trace_parent) caller = parse_traceparent(*record.trace_parent);
    if (caller) {
      state.trace_id = caller->trace_id;
      state.parent_span_id = caller->span_id;
      state.sampled = caller->sampled();
    } else {
      state.trace_id = derived_trace_id("grok.trace/" + run_id);
    }
    state.last_active = ++activity;
    if (runs.size() >= max_runs) forget_oldest();
    return &runs.emplace(run_id, std::move(state)).first->second;
  }

  void forget_oldest() {
    auto oldest = std::min_element(runs.begin(), runs.end(), [](const auto& a, const auto& b) {
      return a.second.last_active < b.second.last_active;
    });
    if (oldest == runs.end()) return;
    spdlog::debug("tracing: too many unfinished runs; forgetting run {}", oldest->first);
    runs.erase(oldest);
  }

  void handle(const pending_event& e) {
    auto* run = state_of(e.run_id);
    if (run == nullptr) return;
    if (!run->sampled) {
      if (is_run_end(e.type)) runs.erase(e.run_id);
      return;
    }
    const auto ts = unix_nanos(e.ts);
    const json body = body_needed(e.type) ? parse_body(e.body_json) : json::object();
    const std::string step_id = e.step_id.value_or("");
    if (e.type == "step.started" && !step_id.empty()) {
      if (run->steps.count(step_id) != 0) {
        // Started again without an end (its job was claimed again): close the last attempt.
        send_model_calls(*run, step_id, ts);
        end_tool(*run, step_id, ts, false, "the step was started again");
        end_step(*run, step_id, ts, "step.retrying", {});
      }
      auto attempt = int_field(body, "attempt").value_or(1);
      run->steps[step_id] = {
          derived_span_id("grok.step/" + e.run_id + "/" + step_id + "/" + std::to_string(attempt)),
          e.name.value_or("step"), string_field(body, "tool"), attempt, ts};
    } else if (e.type == "tool.requested" && !step_id.empty()) {
      auto step = run->steps.find(step_id);
      auto key = string_field(body, "idempotency_key");
      auto tool = string_field(body, "tool");
      run->tools[step_id] = {
          derived_span_id("grok.tool/" + e.run_id + "/" + step_id + "/" +
                          (step == run->steps.end() ? "" : std::to_string(step->second.attempt)) +
                          "/" + key),
          step == run->steps.end() ? run->span_id : step->second.span_id, tool, key, ts};
    } else if (e.type == "tool.result" && !step_id.empty()) {
      end_tool(*run, step_id, ts, string_field(body, "status") == "ok",
               string_field(body, "error"));
    } else if (is_step_end(e.type) && !step_id.empty()) {
      send_model_calls(*run, step_id, ts);
      end_tool(*run, step_id, ts, false, "the step ended before its tool call did");
      end_step(*run, step_id, ts, e.type, body);
    } else if (is_run_end(e.type)) {
      send_model_calls(*run, std::nullopt, std::numeric_limits<std::int64_t>::max());
      while (!run->steps.empty()) {
        const auto id = run->steps.begin()->first;
        end_tool(*run, id, ts, false, "the run ended before this tool call did");
        end_step(*run, id, ts, "run.ended", {});
      }
      end_run(*run, ts, e.type, body);
      runs.erase(e.run_id);
    }
  }

  void end_tool(run_state& run, const std::string& step_id, std::int64_t end_ns, bool ok,
                const std::string& error) {
    auto it = run.tools.find(step_id);
    if (it == run.tools.end()) return;
    auto& t = it->second;
    auto s =
        make_span(run, t.span_id, t.parent_span_id, "execute_tool " + t.tool, t.start_ns, end_ns);
    s.attributes = {{"gen_ai.operation.name", std::string("execute_tool")},
                    {"gen_ai.tool.name", t.tool},
                    {"grok.run.id", run.run_id},
                    {"grok.step.id", step_id}};
    if (!t.call_id.empty()) s.attributes.push_back({"gen_ai.tool.call.id", t.call_id});
    if (!ok) {
      s.status = status_code::error;
      s.status_message = error.empty() ? std::string("the tool failed") : error;
      s.attributes.push_back({"error.type", std::string("tool_error")});
    }
    if (auto step = run.steps.find(step_id); step != run.steps.end()) {
      step->second.tool_span_id = t.span_id;
      step->second.tool_start_ns = s.start_unix_nano;
      step->second.tool_end_ns = s.end_unix_nano;
    }
    run.tools.erase(it);
    sink(std::move(s));
  }

  void end_step(run_state& run, const std::string& step_id, std::int64_t end_ns,
                std::string_view how, const json& body) {
    auto it = run.steps.find(step_id);
    if (it == run.steps.end()) return;
    auto& step = it->second;
    auto s = make_span(run, step.span_id, run.span_id, step.name, step.start_ns, end_ns);
    s.attributes = {{"grok.run.id", run.run_id},
                    {"grok.step.id", step_id},
                    {"grok.step.name", step.name},
                    {"grok.step.attempt", step.attempt}};
    if (!step.tool.empty()) s.attributes.push_back({"grok.step.tool", step.tool});
    std::string outcome = "completed";
    if (how == "step.failed") {
      outcome = "failed";
      const auto error =
          body.contains("error") && body["error"].is_object() ? body["error"] : json::object();
      s.status = status_code::error;
      s.status_message = string_field(error, "message");
      auto code = string_field(error, "code");
      s.attributes.push_back({"error.type", code.empty() ? std::string("step_failed") : code});
    } else if (how == "step.retrying") {
      outcome = "retrying";
      s.status = status_code::error;
      s.status_message = string_field(body, "error");
      s.attributes.push_back({"error.type", std::string("retrying")});
    } else if (how == "run.ended") {
      outcome = "interrupted";
      s.status = status_code::error;
      s.status_message = "the run ended before this step did";
      s.attributes.push_back({"error.type", std::string("run_ended")});
    }
    s.attributes.push_back({"grok.step.outcome", outcome});
    run.steps.erase(it);
    sink(std::move(s));
  }

  void end_run(const run_state& run, std::int64_t end_ns, std::string_view type, const json& body) {
    auto s =
        make_span(run, run.span_id, run.parent_span_id, "invoke_agent grok", run.start_ns, end_ns);
    const std::string status(type.substr(type.find('.') + 1));  // completed | failed | cancelled
    s.attributes = {{"gen_ai.operation.name", std::string("invoke_agent")},
                    {"gen_ai.agent.name", std::string("grok")},
                    {"grok.run.id", run.run_id},
                    {"grok.run.status", status}};
    if (auto usage = body.find("usage"); usage != body.end() && usage->is_object()) {
      if (auto in = int_field(*usage, "tokens_in")) {
        s.attributes.push_back({"gen_ai.usage.input_tokens", *in});
      }
      if (auto out = int_field(*usage, "tokens_out")) {
        s.attributes.push_back({"gen_ai.usage.output_tokens", *out});
      }
    }
    if (auto error = body.find("error"); error != body.end() && error->is_object()) {
      auto code = string_field(*error, "code");
      if (!code.empty()) s.attributes.push_back({"grok.run.error.code", code});
      // A failed run is an error; a cancelled one is what someone asked for.
      if (type == "run.failed") {
        s.status = status_code::error;
        s.status_message = string_field(*error, "message");
        s.attributes.push_back({"error.type", code.empty() ? std::string("run_failed") : code});
      }
    }
    sink(std::move(s));
  }

  // The model calls of one step (or, at the run's end, of any step) not sent yet, made
  // before `until_ns`: the store may already hold calls of the step's next attempt.
  void send_model_calls(run_state& run, const std::optional<std::string>& step_id,
                        std::int64_t until_ns) {
    auto calls = st.list_llm_calls(run.run_id);
    if (!calls) {
      spdlog::warn("tracing: reading the model calls of run {} failed: {}", run.run_id,
                   describe(calls.error()));
      return;
    }
    for (const auto& c : *calls) {
      if (step_id && c.step_id != step_id) continue;
      if (unix_nanos(c.created_at) > until_ns) continue;
      if (!run.calls_done.insert(c.id).second) continue;
      send_model_call(run, c);
    }
  }

  void send_model_call(const run_state& run, const store::llm_call_record& c) {
    const auto end_ns = unix_nanos(c.created_at);
    auto start_ns = end_ns - std::max<std::int64_t>(c.latency_ms, 0) * k_nanos_per_ms;
    std::string parent = run.span_id;
    std::int64_t floor_ns = run.start_ns;
    if (c.step_id) {
      if (auto it = run.steps.find(*c.step_id); it != run.steps.end()) {
        const auto& step = it->second;
        parent = step.span_id;
        floor_ns = step.start_ns;
        auto tool = run.tools.find(*c.step_id);
        if (tool != run.tools.end() && end_ns >= tool->second.start_ns) {
          parent = tool->second.span_id;
          floor_ns = tool->second.start_ns;
        } else if (!step.tool_span_id.empty() && end_ns >= step.tool_start_ns &&
                   end_ns <= step.tool_end_ns) {
          parent = step.tool_span_id;
          floor_ns = step.tool_start_ns;
        }
      }
    }
    // Times are whole milliseconds from two clocks; keep the child inside its parent.
    start_ns = std::max(start_ns, floor_ns);
    auto s = make_span(run, derived_span_id("grok.llm/" + c.id), parent, "chat " + c.model,
                       start_ns, end_ns);
    s.kind = span_kind::client;
    s.attributes = {{"gen_ai.operation.name", std::string("chat")},
                    {"gen_ai.provider.name", c.provider},
                    {"gen_ai.system", c.provider},
                    {"gen_ai.request.model", c.model},
                    {"grok.run.id", run.run_id},
                    {"grok.llm.call_id", c.id},
                    {"grok.llm.role", c.role}};
    if (c.tokens_in) s.attributes.push_back({"gen_ai.usage.input_tokens", *c.tokens_in});
    if (c.tokens_out) s.attributes.push_back({"gen_ai.usage.output_tokens", *c.tokens_out});
    if (c.response_json) {
      const auto response = parse_body(*c.response_json);
      if (auto reason = string_field(response, "finish_reason"); !reason.empty()) {
        s.attributes.push_back(
            {"gen_ai.response.finish_reasons", std::vector<std::string>{reason}});
      }
      if (auto model = string_field(response, "model"); !model.empty()) {
        s.attributes.push_back({"gen_ai.response.model", model});
      }
      if (auto id = string_field(response, "id"); !id.empty()) {
        s.attributes.push_back({"gen_ai.response.id", id});
      }
    }
    if (c.status != "ok") {
      s.status = status_code::error;
      s.status_message = c.error.value_or("the model call failed");
      // Stored as "<failure kind>: <message>" (llm/recorded_models.cpp).
      const auto kind = s.status_message.substr(0, s.status_message.find(':'));
      s.attributes.push_back({"error.type", kind.empty() ? std::string("model_error") : kind});
    }
    sink(std::move(s));
  }
};

run_tracer::run_tracer(store::store& st, span_sink sink, run_tracer_options options)
    : store_(st),
      sink_(std::move(sink)),
      options_(options),
      dropped_events_(metrics().counter(
          "grok_trace_events_dropped_total",
          "Run events the tracer could not keep up with; the spans they end are lost.")),
      builder_(std::make_unique<builder>(
          builder{st, sink_, std::max<std::size_t>(options_.max_runs, 1), {}, 0})) {
  thread_ = std::thread([this] { run(); });
  subscription_ = std::make_unique<store::feed_subscription>(
      st.local_events_feed(),
      [this](const std::vector<store::event_record>& events) { on_events(events); });
}

run_tracer::~run_tracer() {
  subscription_.reset();  // no event arrives after this
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void run_tracer::on_events(const std::vector<store::event_record>& events) {
  // Runs on the committing thread under the store's write lock: copy and return.
  bool queued = false;
  std::size_t dropped = 0;
  {
    std::lock_guard lock(mutex_);
    for (const auto& e : events) {
      if (!is_traced(e.type)) continue;
      ++received_;
      const auto bytes = body_needed(e.type) ? e.body_json.size() : 0;
      if (pending_.size() >= options_.max_pending_events ||
          pending_bytes_ + bytes > options_.max_pending_bytes) {
        ++handled_;
        ++dropped;
        continue;
      }
      pending_bytes_ += bytes;
      pending_.push_back(
          {e.run_id, e.type, e.step_id, e.name, e.ts, bytes > 0 ? e.body_json : std::string()});
      queued = true;
    }
  }
  if (dropped > 0) dropped_events_.inc({}, static_cast<double>(dropped));
  if (queued) wake_.notify_one();
}

bool run_tracer::drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const auto target = received_;
  return idle_.wait_for(lock, timeout, [&] { return handled_ >= target; });
}

std::size_t run_tracer::tracked_runs() const {
  std::lock_guard lock(mutex_);
  return tracked_runs_;
}

void run_tracer::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) break;  // stopping, and every event handled
    auto e = std::move(pending_.front());
    pending_.pop_front();
    pending_bytes_ -= e.body_json.size();
    lock.unlock();
    builder_->handle(e);
    const auto tracked = builder_->runs.size();
    lock.lock();
    ++handled_;
    tracked_runs_ = tracked;
    idle_.notify_all();
  }
}

}  // namespace grok::obs
