// Traces of real runs: a real `grok serve` exports OTLP/HTTP JSON to a receiver inside the
// test while the scripted fake model server answers its model calls. Checks the trace
// structure, ids, parent links, timestamps and GenAI attributes, the caller's traceparent,
// and that a collector that is down costs spans, never runs.
#include <gtest/gtest.h>

#include <ctime>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests_support/api_client.h"
#include "tests_support/fake_model_server.h"
#include "tests_support/grok_server.h"
#include "tests_support/otlp_receiver.h"

namespace grok {
namespace {

using json = nlohmann::json;
using testing::api_call;
using testing::fake_model_server;
using testing::grok_server;
using testing::otlp_attribute;
using testing::otlp_receiver;
using testing::received_span;
using namespace std::chrono_literals;

const std::string k_caller_trace = "0af7651916cd43dd8448eb211c80319c";
const std::string k_caller_span = "b7ad6b7169203331";

// E1 a calculator, E2 the llm tool (a model call inside a worker step), then the solver.
json script() {
  json plan = {
      {"steps",
       {{{"id", "E1"}, {"tool", "calculator"}, {"args", {{"expression", "6 * 7"}}}},
        {{"id", "E2"}, {"tool", "llm"}, {"args", {{"prompt", "Why is #E1 a fun number?"}}}}}}};
  return {{"rules",
           {{{"match", {{"contains", "You are the planner"}}},
             {"reply", {{"json", plan}, {"usage", true}}}},
            {{"match", {{"contains", "You are the solver"}}},
             {"reply", {{"content", "42, and it is fun."}, {"usage", true}, {"chunk_chars", 4}}}},
            {{"match", {{"contains", "fun number"}}},
             {"reply", {{"content", "It answers everything."}, {"usage", true}}}}}}};
}

std::string str(const json& any_value) {
  return any_value.is_object() && any_value.contains("stringValue")
             ? any_value["stringValue"].get<std::string>()
             : "";
}

std::int64_t integer(const json& any_value) {
  if (!any_value.is_object() || !any_value.contains("intValue")) return -1;
  const auto& v = any_value["intValue"];
  return v.is_string() ? std::stoll(v.get<std::string>()) : v.get<std::int64_t>();
}

std::string attr(const received_span& s, const std::string& key) {
  return str(otlp_attribute(s.span["attributes"], key));
}

bool lower_hex(const json& v, std::size_t length) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return s.size() == length && s.find_first_not_of("0123456789abcdef") == std::string::npos &&
         s.find_first_not_of('0') != std::string::npos;
}

std::int64_t nanos(const json& v) { return std::stoll(v.get<std::string>()); }

// "2026-11-25T08:10:00.123Z" as Unix nanoseconds.
std::int64_t iso_nanos(const std::string& iso) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
    ADD_FAILURE() << "not an ISO time: " << iso;
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms) * 1'000'000;
}

class tracing_e2e : public ::testing::Test {
 protected:
  void TearDown() override {
    // A clean exit: the drain finished and the sanitizers found nothing.
    if (server_) {
      EXPECT_EQ(server_->stop(), 0) << server_->log_text();
    }
  }
  void start(const std::string& endpoint) {
    fake_ = std::make_unique<fake_model_server>(script());
    server_ = std::make_unique<grok_server>(
        std::map<std::string, std::string>{{"GROK_LLM_BASE_URL", fake_->base_url()},
                                           {"GROK_PLANNER_MODEL", "planner-m"},
                                           {"GROK_SOLVER_MODEL", "solver-m"},
                                           {"GROK_OTLP_ENDPOINT", endpoint},
                                           {"GROK_TRACING_FLUSH_INTERVAL_MS", "50"},
                                           {"OTEL_SERVICE_NAME", "grok-e2e"},
                                           {"GROK_LOG_LEVEL", "info"}});
    key_ = server_->create_key("runs", "tracer");
    server_->start(2);
  }

  // Creates a run and waits for its end; returns the run as GET /v1/runs/{id} shows it.
  json run_to_end(std::vector<std::string> headers = {}) {
    headers.push_back("Authorization: Bearer " + key_);
    headers.push_back("Content-Type: application/json");
    auto created = api_call("POST", server_->url("/v1/runs"), headers,
                            json{{"input", "What is 6 times 7, and why is it fun?"}}.dump());
    EXPECT_EQ(created.status, 201) << created.body;
    const std::string id = created.json().value("id", "");
    const auto until = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      auto got = api_call("GET", server_->url("/v1/runs/" + id), {"Authorization: Bearer " + key_});
      auto doc = got.json();
      const auto status = doc.value("status", "");
      if (status == "completed" || status == "failed" || status == "cancelled") return doc;
      if (std::chrono::steady_clock::now() > until) {
        ADD_FAILURE() << "run " << id << " did not end: " << got.body;
        return doc;
      }
      std::this_thread::sleep_for(20ms);  // polling for the run's end
    }
  }

  // The spans of one run, once its run span (the last one it sends) has arrived.
  std::vector<received_span> spans_of(const std::string& run_id) {
    auto has_root = [&](const std::vector<received_span>& all) {
      for (const auto& s : all) {
        if (s.span.value("name", "") == "invoke_agent grok" && attr(s, "grok.run.id") == run_id) {
          return true;
        }
      }
      return false;
    };
    EXPECT_TRUE(receiver_.wait_for_spans(has_root, 30s)) << "no run span for " << run_id;
    std::vector<received_span> out;
    for (auto& s : receiver_.spans()) {
      if (attr(s, "grok.run.id") == run_id) out.push_back(std::move(s));
    }
    return out;
  }

  otlp_receiver receiver_;
  std::unique_ptr<fake_model_server> fake_;
  std::unique_ptr<grok_server> server_;
  std::string key_;
};

TEST_F(tracing_e2e, a_run_is_one_trace_under_the_callers_span_with_genai_attributes) {
  start(receiver_.base_url());
  const auto run = run_to_end({"traceparent: 00-" + k_caller_trace + "-" + k_caller_span + "-01"});
  ASSERT_EQ(run["status"], "completed") << run.dump();
  const std::string run_id = run["id"];
  const auto spans = spans_of(run_id);

  // Every request went to /v1/traces as JSON, from the configured service.
  for (const auto& r : receiver_.requests()) {
    EXPECT_EQ(r.path, "/v1/traces");
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
  }

  const auto window_start = iso_nanos(run["created_at"]);
  const auto window_end = iso_nanos(run["finished_at"]);
  std::map<std::string, const received_span*> by_id;
  const received_span* root = nullptr;
  for (const auto& s : spans) {
    const auto& j = s.span;
    EXPECT_EQ(j["traceId"], k_caller_trace) << j.dump();
    EXPECT_TRUE(lower_hex(j["traceId"], 32)) << j.dump();
    EXPECT_TRUE(lower_hex(j["spanId"], 16)) << j.dump();
    if (j.contains("parentSpanId")) {
      EXPECT_TRUE(lower_hex(j["parentSpanId"], 16)) << j.dump();
    }
    EXPECT_LE(nanos(j["startTimeUnixNano"]), nanos(j["endTimeUnixNano"])) << j.dump();
    EXPECT_GE(nanos(j["startTimeUnixNano"]), window_start) << j.dump();
    EXPECT_LE(nanos(j["endTimeUnixNano"]), window_end) << j.dump();
    EXPECT_EQ(str(otlp_attribute(s.resource_attributes, "service.name")), "grok-e2e");
    EXPECT_EQ(s.scope.value("name", ""), "grok");
    EXPECT_TRUE(by_id.emplace(j["spanId"].get<std::string>(), &s).second) << "duplicate span";
    if (j["name"] == "invoke_agent grok") root = &s;
  }
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->span["parentSpanId"], k_caller_span) << "the caller's span is the parent";
  EXPECT_EQ(attr(*root, "grok.run.status"), "completed");
  EXPECT_EQ(integer(otlp_attribute(root->span["attributes"], "gen_ai.usage.input_tokens")),
            run["usage"]["tokens_in"].get<std::int64_t>());
  const std::string root_id = root->span["spanId"];

  // One span per step, each a child of the run span, named after the step.
  std::map<std::string, const received_span*> step_spans;  // by step id
  for (const auto& s : spans) {
    if (!attr(s, "grok.step.id").empty() && attr(s, "grok.step.name") == s.span["name"]) {
      EXPECT_EQ(s.span["parentSpanId"], root_id) << s.span.dump();
      step_spans[attr(s, "grok.step.id")] = &s;
    }
  }
  std::set<std::string> step_names;
  for (const auto& step : run["steps"]) {
    ASSERT_EQ(step_spans.count(step["id"]), 1U) << "no span for step " << step.dump();
    step_names.insert(step["name"]);
    EXPECT_EQ(step_spans[step["id"]]->span["name"], step["name"]);
  }
  EXPECT_EQ(step_names, (std::set<std::string>{"planner", "worker.E1", "worker.E2", "solver"}));

  // Model calls: children of their step, GenAI attributes, tokens as the step counted them.
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> tokens_by_step;
  int chats = 0;
  std::int64_t all_in = 0;
  for (const auto& s : spans) {
    if (attr(s, "gen_ai.operation.name") != "chat") continue;
    ++chats;
    const auto& a = s.span["attributes"];
    const auto model = str(otlp_attribute(a, "gen_ai.request.model"));
    EXPECT_EQ(s.span["name"], "chat " + model);
    EXPECT_EQ(s.span["kind"], 3) << "a client span";
    EXPECT_EQ(str(otlp_attribute(a, "gen_ai.provider.name")), "openai");
    EXPECT_EQ(str(otlp_attribute(a, "gen_ai.system")), "openai");
    EXPECT_EQ(otlp_attribute(a, "gen_ai.response.finish_reasons"),
              json::parse(R"({"arrayValue":{"values":[{"stringValue":"stop"}]}})"));
    const auto in = integer(otlp_attribute(a, "gen_ai.usage.input_tokens"));
    const auto out = integer(otlp_attribute(a, "gen_ai.usage.output_tokens"));
    EXPECT_GT(in, 0);
    EXPECT_GT(out, 0);
    all_in += in;
    const auto parent = s.span["parentSpanId"].get<std::string>();
    ASSERT_EQ(by_id.count(parent), 1U) << "a model call's parent is a span of the run";
    const auto* direct = by_id[parent];
    const auto* step = direct;
    if (attr(*direct, "gen_ai.operation.name") == "execute_tool") {
      // The llm tool's model call is a child of that tool call, inside its step.
      EXPECT_EQ(attr(*direct, "gen_ai.tool.name"), "llm");
      EXPECT_EQ(attr(s, "grok.llm.role"), "llm");
      ASSERT_EQ(by_id.count(direct->span["parentSpanId"]), 1U);
      step = by_id[direct->span["parentSpanId"]];
    }
    const auto step_name = attr(*step, "grok.step.name");
    EXPECT_FALSE(step_name.empty()) << "a model call's parent is a step";
    if (step_name == "planner") {
      EXPECT_EQ(model, "planner-m");
    } else if (step_name == "solver") {
      EXPECT_EQ(model, "solver-m");
    }
    tokens_by_step[attr(*step, "grok.step.id")].first += in;
    tokens_by_step[attr(*step, "grok.step.id")].second += out;
    EXPECT_GE(nanos(s.span["startTimeUnixNano"]), nanos(direct->span["startTimeUnixNano"]));
    EXPECT_LE(nanos(s.span["endTimeUnixNano"]), nanos(direct->span["endTimeUnixNano"]));
  }
  EXPECT_EQ(chats, static_cast<int>(fake_->requests().size())) << "one span per model call";
  EXPECT_EQ(all_in, run["usage"]["tokens_in"].get<std::int64_t>());
  for (const auto& step : run["steps"]) {
    if (step["tokens_in"].get<std::int64_t>() == 0) continue;
    EXPECT_EQ(tokens_by_step[step["id"]].first, step["tokens_in"].get<std::int64_t>())
        << step.dump();
    EXPECT_EQ(tokens_by_step[step["id"]].second, step["tokens_out"].get<std::int64_t>())
        << step.dump();
  }
  EXPECT_GE(tokens_by_step.size(), 3U) << "planner, the llm tool's step and the solver";

  // Tool calls: children of their worker step, named after the tool.
  std::set<std::string> tools;
  for (const auto& s : spans) {
    if (attr(s, "gen_ai.operation.name") != "execute_tool") continue;
    const auto tool = attr(s, "gen_ai.tool.name");
    tools.insert(tool);
    EXPECT_EQ(s.span["name"], "execute_tool " + tool);
    const auto parent = s.span["parentSpanId"].get<std::string>();
    ASSERT_EQ(by_id.count(parent), 1U);
    EXPECT_EQ(attr(*by_id[parent], "grok.step.tool"), tool);
    EXPECT_EQ(s.span["status"].value("code", -1), 0) << s.span.dump();
  }
  EXPECT_EQ(tools, (std::set<std::string>{"calculator", "llm"}));
}

TEST_F(tracing_e2e, runs_without_a_valid_traceparent_get_traces_of_their_own) {
  start(receiver_.base_url());
  const std::vector<std::vector<std::string>> callers = {
      {},
      {"traceparent: 00-" + std::string(32, '0') + "-" + k_caller_span + "-01"},      // zero trace
      {"traceparent: 00-0AF7651916CD43DD8448EB211C80319C-" + k_caller_span + "-01"},  // uppercase
      {"traceparent: not a traceparent at all"},
      {"traceparent: 00-" + k_caller_trace + "-" + k_caller_span + "-01",  // two of them
       "traceparent: 00-" + k_caller_trace + "-" + k_caller_span + "-01"}};
  std::set<std::string> traces;
  for (const auto& headers : callers) {
    const auto run = run_to_end(headers);  // 201 for every one of them
    ASSERT_EQ(run["status"], "completed") << run.dump();
    const auto spans = spans_of(run["id"]);
    ASSERT_FALSE(spans.empty());
    const std::string trace = spans.front().span["traceId"];
    EXPECT_TRUE(lower_hex(trace, 32));
    EXPECT_NE(trace, k_caller_trace);
    for (const auto& s : spans) {
      EXPECT_EQ(s.span["traceId"], trace) << "one trace per run";
      if (s.span["name"] == "invoke_agent grok") {
        EXPECT_FALSE(s.span.contains("parentSpanId")) << "the run span is the root";
      }
    }
    EXPECT_TRUE(traces.insert(trace).second) << "a fresh trace id for each run";
  }
}

TEST_F(tracing_e2e, a_caller_that_does_not_sample_gets_no_spans) {
  start(receiver_.base_url());
  const std::string unsampled_trace = "5bf92f3577b34da6a3ce929d0e0e4736";
  const auto quiet =
      run_to_end({"traceparent: 00-" + unsampled_trace + "-" + k_caller_span + "-00"});
  ASSERT_EQ(quiet["status"], "completed");
  // A sampled run after it: once its spans are in, the first run's would have been too.
  const auto loud = run_to_end({"traceparent: 00-" + k_caller_trace + "-" + k_caller_span + "-01"});
  ASSERT_FALSE(spans_of(loud["id"]).empty());
  for (const auto& s : receiver_.spans()) {
    EXPECT_NE(s.span["traceId"], unsampled_trace);
    EXPECT_NE(attr(s, "grok.run.id"), quiet["id"].get<std::string>());
  }
}

TEST_F(tracing_e2e, a_collector_that_is_down_costs_spans_not_runs) {
  testing::refused_port down;
  // Credentials and a query in the endpoint must never reach the log.
  start("http://trace-user:hunter2@127.0.0.1:" + std::to_string(down.port()) + "/?token=s3cret");
  for (int i = 0; i < 3; ++i) {
    const auto run =
        run_to_end({"traceparent: 00-" + k_caller_trace + "-" + k_caller_span + "-01"});
    EXPECT_EQ(run["status"], "completed") << run.dump();
  }
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (server_->log_text().find("trace export to") == std::string::npos &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms);  // polling for the exporter's warning
  }
  ASSERT_EQ(server_->stop(), 0) << "a clean drain even with spans it cannot send";
  const auto log = server_->log_text();
  EXPECT_NE(log.find("trace export to http://127.0.0.1:" + std::to_string(down.port())),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("hunter2"), std::string::npos) << "the password was logged";
  EXPECT_EQ(log.find("s3cret"), std::string::npos) << "the query was logged";
  EXPECT_EQ(log.find("trace-user"), std::string::npos) << "the user was logged";
}

}  // namespace
}  // namespace grok
