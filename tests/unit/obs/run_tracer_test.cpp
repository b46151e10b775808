// Spans built from a run's events and model calls, against a real SQLite store: their
// tree, ids, times and attributes; caller trace contexts; failures, retries, resumed runs
// and the bound on tracked runs.
#include "obs/run_tracer.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "obs/metrics.h"
#include "obs/trace_context.h"
#include "store/open_store.h"
#include "tests_support/temp_dir.h"

namespace grok::obs {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

const std::string k_caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string k_caller_span = "00f067aa0ba902b7";

const attribute_value* find_attribute(const span& s, const std::string& key) {
  for (const auto& a : s.attributes) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

std::string str_attr(const span& s, const std::string& key) {
  auto* v = find_attribute(s, key);
  return v != nullptr && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v) : "";
}

std::optional<std::int64_t> int_attr(const span& s, const std::string& key) {
  auto* v = find_attribute(s, key);
  if (v == nullptr || !std::holds_alternative<std::int64_t>(*v)) return std::nullopt;
  return std::get<std::int64_t>(*v);
}

std::int64_t ns(time_point t) { return to_unix_ms(t) * 1'000'000; }

class run_tracer_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened =
        store::open_store({.url = "sqlite://" + dir_.file("grok.db"), .time_source = &clock_});
    ASSERT_TRUE(opened) << describe(opened.error());
    store_ = std::move(*opened);
  }

  std::unique_ptr<run_tracer> start_tracer(run_tracer_options o = {}) {
    return std::make_unique<run_tracer>(
        *store_,
        [this](span s) {
          std::lock_guard lock(mutex_);
          spans_.push_back(std::move(s));
        },
        o);
  }

  std::string create_run(std::optional<std::string> trace_parent = std::nullopt) {
    store::run_record r;
    r.id = new_id("run", clock_.now());
    r.input = "task";
    r.trace_parent = std::move(trace_parent);
    r.created_at = clock_.now();
    EXPECT_TRUE(store_->transact([&](store::transaction& tx) -> result<void> {
      if (auto e = tx.insert_run(r); !e) return e;
      return append(tx, r.id, "run.created", {}, {},
                    {{"input", "task"}, {"options", json::object()}});
    }));
    return r.id;
  }

  static result<void> append(store::transaction& tx, const std::string& run_id,
                             const std::string& type, const std::string& step_id,
                             const std::string& name, const json& body) {
    store::event_draft d;
    d.run_id = run_id;
    d.type = type;
    if (!step_id.empty()) d.step_id = step_id;
    if (!name.empty()) d.name = name;
    d.ts = tx.now();
    d.body_json = body.dump();
    auto seq = tx.append_event(d);
    if (!seq) return tl::unexpected(seq.error());
    return {};
  }

  void emit(const std::string& run_id, const std::string& type, const std::string& step_id = "",
            const std::string& name = "", const json& body = json::object()) {
    clock_.advance(10ms);
    auto ok = store_->transact(
        [&](store::transaction& tx) { return append(tx, run_id, type, step_id, name, body); });
    ASSERT_TRUE(ok) << describe(ok.error());
  }

  // A model call that took 5 ms and ended now.
  std::string record_call(const std::string& run_id, const std::string& step_id,
                          std::string status = "ok") {
    clock_.advance(10ms);
    store::llm_call_record c;
    c.id = new_id("llm", clock_.now());
    c.run_id = run_id;
    c.step_id = step_id;
    c.role = "planner";
    c.provider = "ollama";
    c.model = "llama3.1:8b";
    c.request_hash = "h-" + c.id;
    c.request_json = "{}";
    c.status = status;
    c.latency_ms = 5;
    c.created_at = clock_.now();
    if (status == "ok") {
      c.response_json =
          R"({"id":"chatcmpl-1","model":"llama3.1:8b-q4","content":"{}","tool_calls":[],"finish_reason":"stop","usage":{"prompt_tokens":120,"completion_tokens":30}})";
      c.tokens_in = 120;
      c.tokens_out = 30;
    } else {
      c.error = "unreachable: connection refused";
    }
    EXPECT_TRUE(store_->transact([&](store::transaction& tx) { return tx.record_llm_call(c); }));
    return c.id;
  }

  std::vector<span> spans() {
    std::lock_guard lock(mutex_);
    return spans_;
  }
  std::map<std::string, span> spans_by_name() {
    std::map<std::string, span> out;
    for (auto& s : spans()) out[s.name + (out.count(s.name) ? "#2" : "")] = s;
    return out;
  }

  testing::temp_dir dir_;
  manual_clock clock_;
  std::unique_ptr<store::store> store_;
  std::mutex mutex_;
  std::vector<span> spans_;
};

TEST_F(run_tracer_test, a_run_becomes_one_trace_under_the_callers_span) {
  auto tracer = start_tracer();
  const auto created = clock_.now();
  const auto run = create_run("00-" + k_caller_trace + "-" + k_caller_span + "-01");
  emit(run, "step.started", "step_p", "planner", {{"attempt", 1}});
  const auto planner_start = clock_.now();
  const auto call = record_call(run, "step_p");
  emit(run, "step.completed", "step_p", "planner",
       {{"metrics", {{"tokens_in", 120}, {"tokens_out", 30}}}});
  emit(run, "step.started", "step_e1", "worker.E1", {{"attempt", 1}, {"tool", "calculator"}});
  emit(run, "tool.requested", "step_e1", "worker.E1",
       {{"tool", "calculator"}, {"args", {{"expression", "1+1"}}}, {"idempotency_key", "k1"}});
  emit(run, "tool.result", "step_e1", "worker.E1",
       {{"tool", "calculator"}, {"status", "ok"}, {"output", "2"}});
  emit(run, "step.completed", "step_e1", "worker.E1");
  emit(run, "run.completed", "", "",
       {{"answer", "2"}, {"usage", {{"tokens_in", 120}, {"tokens_out", 30}, {"cost", 0}}}});
  const auto ended = clock_.now();
  ASSERT_TRUE(tracer->drain(10s));

  auto by = spans_by_name();
  ASSERT_EQ(by.size(), 5U);
  const auto& root = by.at("invoke_agent grok");
  const auto& planner = by.at("planner");
  const auto& chat = by.at("chat llama3.1:8b");
  const auto& worker = by.at("worker.E1");
  const auto& tool = by.at("execute_tool calculator");
  for (const auto& [name, s] : by) {
    EXPECT_EQ(s.trace_id, k_caller_trace) << name;
    EXPECT_TRUE(is_span_id(s.span_id)) << name;
    EXPECT_LE(s.start_unix_nano, s.end_unix_nano) << name;
    EXPECT_GE(s.start_unix_nano, ns(created)) << name;
    EXPECT_LE(s.end_unix_nano, ns(ended)) << name;
  }
  EXPECT_EQ(root.parent_span_id, k_caller_span);
  EXPECT_EQ(root.start_unix_nano, ns(created));
  EXPECT_EQ(root.end_unix_nano, ns(ended));
  EXPECT_EQ(str_attr(root, "grok.run.id"), run);
  EXPECT_EQ(str_attr(root, "grok.run.status"), "completed");
  EXPECT_EQ(int_attr(root, "gen_ai.usage.input_tokens"), 120);
  EXPECT_EQ(root.status, status_code::unset);

  EXPECT_EQ(planner.parent_span_id, root.span_id);
  EXPECT_EQ(planner.start_unix_nano, ns(planner_start));
  EXPECT_EQ(worker.parent_span_id, root.span_id);
  EXPECT_EQ(str_attr(worker, "grok.step.tool"), "calculator");
  EXPECT_EQ(int_attr(worker, "grok.step.attempt"), 1);

  EXPECT_EQ(chat.parent_span_id, planner.span_id);
  EXPECT_EQ(chat.kind, span_kind::client);
  EXPECT_EQ(chat.end_unix_nano - chat.start_unix_nano, 5'000'000) << "latency_ms before created_at";
  EXPECT_EQ(str_attr(chat, "gen_ai.operation.name"), "chat");
  EXPECT_EQ(str_attr(chat, "gen_ai.provider.name"), "ollama");
  EXPECT_EQ(str_attr(chat, "gen_ai.system"), "ollama");
  EXPECT_EQ(str_attr(chat, "gen_ai.request.model"), "llama3.1:8b");
  EXPECT_EQ(str_attr(chat, "gen_ai.response.model"), "llama3.1:8b-q4");
  EXPECT_EQ(str_attr(chat, "grok.llm.call_id"), call);
  EXPECT_EQ(int_attr(chat, "gen_ai.usage.input_tokens"), 120);
  EXPECT_EQ(int_attr(chat, "gen_ai.usage.output_tokens"), 30);
  auto* reasons = find_attribute(chat, "gen_ai.response.finish_reasons");
  ASSERT_NE(reasons, nullptr);
  EXPECT_EQ(std::get<std::vector<std::string>>(*reasons), std::vector<std::string>{"stop"});

  EXPECT_EQ(tool.parent_span_id, worker.span_id);
  EXPECT_EQ(str_attr(tool, "gen_ai.operation.name"), "execute_tool");
  EXPECT_EQ(str_attr(tool, "gen_ai.tool.name"), "calculator");
  EXPECT_EQ(str_attr(tool, "gen_ai.tool.call.id"), "k1");
  EXPECT_EQ(tool.status, status_code::unset);

  EXPECT_EQ(tracer->tracked_runs(), 0U) << "an ended run's state is dropped";
}

TEST_F(run_tracer_test, the_llm_tools_model_call_is_a_child_of_its_tool_call) {
  auto tracer = start_tracer();
  const auto run = create_run();
  emit(run, "step.started", "s2", "worker.E2", {{"attempt", 1}, {"tool", "llm"}});
  emit(run, "tool.requested", "s2", "worker.E2", {{"tool", "llm"}, {"idempotency_key", "k2"}});
  record_call(run, "s2");
  emit(run, "tool.result", "s2", "worker.E2", {{"tool", "llm"}, {"status", "ok"}});
  emit(run, "step.completed", "s2", "worker.E2");
  record_call(run, "s2");  // made after the tool call ended: the step's own
  emit(run, "run.completed", "", "", {});
  ASSERT_TRUE(tracer->drain(10s));
  auto by = spans_by_name();
  ASSERT_EQ(by.count("execute_tool llm"), 1U);
  const auto& tool = by.at("execute_tool llm");
  const auto& chat = by.at("chat llama3.1:8b");
  EXPECT_EQ(tool.parent_span_id, by.at("worker.E2").span_id);
  EXPECT_EQ(chat.parent_span_id, tool.span_id);
  EXPECT_GE(chat.start_unix_nano, tool.start_unix_nano);
  EXPECT_LE(chat.end_unix_nano, tool.end_unix_nano);
  EXPECT_EQ(by.at("chat llama3.1:8b#2").parent_span_id, by.at("invoke_agent grok").span_id)
      << "a call after its step ended is sent with the run's end, under the run";
}

TEST_F(run_tracer_test, a_run_without_a_caller_gets_a_root_span_in_a_trace_of_its_own) {
  auto tracer = start_tracer();
  const auto a = create_run();
  const auto b = create_run();
  emit(a, "run.completed", "", "", {{"usage", {{"tokens_in", 0}, {"tokens_out", 0}, {"cost", 0}}}});
  emit(b, "run.completed", "", "", {{"usage", {{"tokens_in", 0}, {"tokens_out", 0}, {"cost", 0}}}});
  ASSERT_TRUE(tracer->drain(10s));
  auto all = spans();
  ASSERT_EQ(all.size(), 2U);
  EXPECT_TRUE(all[0].parent_span_id.empty());
  EXPECT_TRUE(is_trace_id(all[0].trace_id));
  EXPECT_NE(all[0].trace_id, all[1].trace_id);
  EXPECT_NE(all[0].trace_id, k_caller_trace);
}

TEST_F(run_tracer_test, a_caller_that_did_not_sample_gets_no_spans) {
  auto tracer = start_tracer();
  const auto run = create_run("00-" + k_caller_trace + "-" + k_caller_span + "-00");
  emit(run, "step.started", "s", "planner", {{"attempt", 1}});
  emit(run, "step.completed", "s", "planner");
  emit(run, "run.completed", "", "", {});
  ASSERT_TRUE(tracer->drain(10s));
  EXPECT_TRUE(spans().empty());
  EXPECT_EQ(tracer->tracked_runs(), 0U);
}

TEST_F(run_tracer_test, retries_and_failures_become_error_spans_one_per_attempt) {
  auto tracer = start_tracer();
  const auto run = create_run();
  emit(run, "step.started", "s1", "worker.E1", {{"attempt", 1}, {"tool", "http_get"}});
  emit(run, "tool.requested", "s1", "worker.E1", {{"tool", "http_get"}, {"idempotency_key", "a1"}});
  emit(run, "tool.result", "s1", "worker.E1",
       {{"tool", "http_get"}, {"status", "error"}, {"error", "HTTP 503"}});
  emit(run, "step.retrying", "s1", "worker.E1",
       {{"attempt", 1}, {"error", "HTTP 503"}, {"retry_in_ms", 100}});
  emit(run, "step.started", "s1", "worker.E1", {{"attempt", 2}, {"tool", "http_get"}});
  record_call(run, "s1", "error");
  emit(run, "step.failed", "s1", "worker.E1",
       {{"error", {{"code", "tool_error"}, {"message", "HTTP 503 again"}}}});
  emit(run, "run.failed", "", "",
       {{"error", {{"code", "step_failed"}, {"message", "E1 failed"}}},
        {"usage", {{"tokens_in", 0}, {"tokens_out", 0}, {"cost", 0}}}});
  ASSERT_TRUE(tracer->drain(10s));

  std::vector<span> steps;
  const span* tool = nullptr;
  const span* root = nullptr;
  const span* chat = nullptr;
  auto all = spans();
  for (const auto& s : all) {
    if (s.name == "worker.E1") steps.push_back(s);
    if (s.name == "execute_tool http_get") tool = &s;
    if (s.name == "invoke_agent grok") root = &s;
    if (s.name.rfind("chat ", 0) == 0) chat = &s;
  }
  ASSERT_EQ(steps.size(), 2U);
  ASSERT_TRUE(tool && root && chat);
  EXPECT_NE(steps[0].span_id, steps[1].span_id);
  EXPECT_EQ(int_attr(steps[0], "grok.step.attempt"), 1);
  EXPECT_EQ(steps[0].status, status_code::error);
  EXPECT_EQ(str_attr(steps[0], "grok.step.outcome"), "retrying");
  EXPECT_EQ(steps[0].status_message, "HTTP 503");
  EXPECT_EQ(int_attr(steps[1], "grok.step.attempt"), 2);
  EXPECT_EQ(steps[1].status, status_code::error);
  EXPECT_EQ(steps[1].status_message, "HTTP 503 again");
  EXPECT_EQ(str_attr(steps[1], "error.type"), "tool_error");
  EXPECT_EQ(tool->status, status_code::error);
  EXPECT_EQ(tool->parent_span_id, steps[0].span_id);
  EXPECT_EQ(chat->parent_span_id, steps[1].span_id) << "the call of the second attempt";
  EXPECT_EQ(chat->status, status_code::error);
  EXPECT_EQ(str_attr(*chat, "error.type"), "unreachable");
  EXPECT_EQ(root->status, status_code::error);
  EXPECT_EQ(str_attr(*root, "grok.run.status"), "failed");
  EXPECT_EQ(str_attr(*root, "grok.run.error.code"), "step_failed");
}

TEST_F(run_tracer_test, the_end_of_a_run_closes_its_open_steps_and_tools) {
  auto tracer = start_tracer();
  const auto run = create_run();
  emit(run, "step.started", "s1", "worker.E1", {{"attempt", 1}, {"tool", "http_get"}});
  emit(run, "tool.requested", "s1", "worker.E1", {{"tool", "http_get"}, {"idempotency_key", "a1"}});
  emit(run, "run.cancelled", "", "",
       {{"error", {{"code", "cancelled"}, {"message", "by request"}}}});
  ASSERT_TRUE(tracer->drain(10s));
  auto by = spans_by_name();
  ASSERT_EQ(by.size(), 3U);
  EXPECT_EQ(by.at("worker.E1").status, status_code::error);
  EXPECT_EQ(by.at("execute_tool http_get").status, status_code::error);
  EXPECT_EQ(by.at("invoke_agent grok").status, status_code::unset) << "cancelling is no error";
  EXPECT_EQ(str_attr(by.at("invoke_agent grok"), "grok.run.status"), "cancelled");
}

TEST_F(run_tracer_test, a_run_resumed_by_a_new_process_keeps_its_trace_and_span_ids) {
  const auto created = clock_.now();
  const auto run = create_run("00-" + k_caller_trace + "-" + k_caller_span + "-01");
  emit(run, "step.started", "s1", "planner", {{"attempt", 1}});  // before this tracer
  auto tracer = start_tracer();
  record_call(run, "s1");
  emit(run, "step.completed", "s1", "planner");
  emit(run, "run.completed", "", "", {});
  ASSERT_TRUE(tracer->drain(10s));
  auto by = spans_by_name();
  ASSERT_EQ(by.count("invoke_agent grok"), 1U);
  const auto& root = by.at("invoke_agent grok");
  EXPECT_EQ(root.trace_id, k_caller_trace);
  EXPECT_EQ(root.parent_span_id, k_caller_span);
  EXPECT_EQ(root.start_unix_nano, ns(created)) << "from the stored run";
  EXPECT_EQ(root.span_id, derived_span_id("grok.run/" + run)) << "the same id in any process";
  ASSERT_EQ(by.count("chat llama3.1:8b"), 1U);
  EXPECT_EQ(by.at("chat llama3.1:8b").parent_span_id, root.span_id)
      << "its step began before this tracer: the call hangs off the run";
  EXPECT_EQ(by.count("planner"), 0U) << "a step whose start was not seen has no span";
}

TEST_F(run_tracer_test, state_is_kept_for_a_bounded_number_of_runs) {
  auto tracer = start_tracer({.max_pending_events = 1000, .max_runs = 2});
  for (int i = 0; i < 5; ++i) create_run();
  ASSERT_TRUE(tracer->drain(10s));
  EXPECT_EQ(tracer->tracked_runs(), 2U);
}

TEST_F(run_tracer_test, events_beyond_the_backlog_bound_are_dropped_and_counted) {
  auto& dropped = metrics().counter("grok_trace_events_dropped_total", "");
  const auto before = dropped.value();
  auto tracer = start_tracer({.max_pending_events = 1000, .max_pending_bytes = 8, .max_runs = 10});
  const auto run = create_run();                                // its body is not kept
  emit(run, "step.started", "s", "planner", {{"attempt", 1}});  // 13 bytes of body: too many
  emit(run, "step.completed", "s", "planner");                  // its body is not kept
  emit(run, "run.completed", "", "", json::object());           // "{}": fits
  ASSERT_TRUE(tracer->drain(10s));
  EXPECT_EQ(dropped.value() - before, 1.0);
  auto all = spans();
  ASSERT_EQ(all.size(), 1U) << "the step's start was lost, so the step has no span";
  EXPECT_EQ(all[0].name, "invoke_agent grok");
}

TEST_F(run_tracer_test, events_of_other_types_are_ignored) {
  auto tracer = start_tracer();
  const auto run = create_run();
  emit(run, "llm.delta", "s", "solver", {{"delta", "hi"}});
  emit(run, "plan.created", "s", "planner", {{"plan", json::object()}});
  emit(run, "step.completed", "unknown", "solver");  // a step never started: no span
  ASSERT_TRUE(tracer->drain(10s));
  EXPECT_TRUE(spans().empty());
  EXPECT_EQ(tracer->tracked_runs(), 1U);
}

}  // namespace
}  // namespace grok::obs
