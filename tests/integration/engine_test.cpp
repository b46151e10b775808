// Whole runs through the engine, its worker pool and the store, against the scripted fake
// model server over real HTTP. Every event seen is checked against schemas/events/. Every
// test runs on each store backend: SQLite (a file in the harness's temp dir) and
// PostgreSQL (a fresh database on this program's throwaway cluster).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <tuple>

#include "conformance/store_backends.h"
#include "tests_support/engine_harness.h"

namespace grok::testing {
namespace {

using json = nlohmann::json;
using store::run_status;

json plan_reply(const json& steps, int prompt_tokens = 100, int completion_tokens = 50) {
  return {{"json", {{"steps", steps}}},
          {"usage", {{"prompt_tokens", prompt_tokens}, {"completion_tokens", completion_tokens}}}};
}

json rule_for_model(const std::string& model, const json& reply) {
  return {{"match", {{"model", model}}}, {"reply", reply}};
}

// A rule for the llm tool's model ("tool-m") whose prompt contains `text`.
json rule_containing(const std::string& text, const json& reply) {
  return {{"match", {{"model", "tool-m"}, {"contains", text}}}, {"reply", reply}};
}

json solver_rule(const std::string& answer = "The answer.") {
  return rule_for_model("solver-m", {{"content", answer},
                                     {"chunk_chars", 4},
                                     {"usage", {{"prompt_tokens", 40}, {"completion_tokens", 8}}}});
}

const store::step_record& step_named(const std::vector<store::step_record>& steps,
                                     const std::string& name) {
  for (const auto& s : steps) {
    if (s.name == name) return s;
  }
  static store::step_record none;
  ADD_FAILURE() << "no step " << name;
  return none;
}

std::vector<std::string> types_of(const std::vector<json>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e["event"].get<std::string>());
  return out;
}

const std::vector<std::string> k_backends = {"sqlite", "postgres"};

// A harness on `backend`: the database URL (empty: the harness's own SQLite file).
std::string database_for(const std::string& backend) {
  return backend == "postgres" ? fresh_postgres_database() : "";
}

// Each test makes its harness through harness(), on the backend of its parameter.
class Engine : public ::testing::TestWithParam<std::string> {
 protected:
  engine_harness& harness(const json& script, const std::function<void(config&)>& tweak = nullptr) {
    harness_ = std::make_unique<engine_harness>(script, tweak, database_for(GetParam()));
    return *harness_;
  }

 private:
  std::unique_ptr<engine_harness> harness_;
};

TEST_P(Engine, ThreeStepPlanWithReferenceCompletes) {
  json script = {
      {"rules",
       {rule_for_model(
            "planner-m",
            plan_reply(
                {{{"id", "E1"}, {"tool", "calculator"}, {"args", {{"expression", "6*7"}}}},
                 {{"id", "E2"}, {"tool", "llm"}, {"args", {{"prompt", "Say hello"}}}},
                 {{"id", "E3"}, {"tool", "llm"}, {"args", {{"prompt", "Combine #E1 with #E2"}}}}})),
        rule_containing("Say hello", {{"content", "hello"},
                                      {"usage", {{"prompt_tokens", 5}, {"completion_tokens", 1}}}}),
        rule_containing("Combine", {{"content", "42 hello"},
                                    {"usage", {{"prompt_tokens", 7}, {"completion_tokens", 2}}}}),
        solver_rule("It is 42, hello.")}}};
  auto& h = harness(script);
  auto run = h.submit("What is 6*7? Then greet.");
  auto ended = h.wait_until_ended(run.id);
  ASSERT_EQ(ended.status, run_status::completed) << ended.error_message.value_or("");
  EXPECT_EQ(ended.answer.value_or(""), "It is 42, hello.");
  // The run's tokens are the sum of its model calls' usage reports.
  auto calls = *h.st->list_llm_calls(run.id);
  EXPECT_EQ(calls.size(), 4U);  // planner, E2, E3, solver
  std::int64_t in = 0;
  std::int64_t out = 0;
  for (const auto& c : calls) {
    in += c.tokens_in.value_or(0);
    out += c.tokens_out.value_or(0);
    EXPECT_TRUE(c.step_id.has_value()) << c.role;  // every call belongs to its step
  }
  EXPECT_GT(in, 0);
  EXPECT_EQ(ended.tokens_in, in);
  EXPECT_EQ(ended.tokens_out, out);

  auto steps = h.steps(run.id);
  EXPECT_EQ(step_named(steps, "worker.E1").output.value_or(""), "42");
  EXPECT_EQ(step_named(steps, "worker.E3").output.value_or(""), "42 hello");
  EXPECT_EQ(step_named(steps, "planner").prompt_version.value_or(""), "planner-1");
  EXPECT_EQ(step_named(steps, "solver").prompt_version.value_or(""), "solver-1");
  for (const auto& s : steps) EXPECT_EQ(s.status, "completed") << s.name;
  // Evidence was substituted into E3's prompt.
  EXPECT_EQ(h.requests_containing("Combine 42 with hello", "tool-m"), 1);

  auto events = h.events(run.id);
  auto types = types_of(events);
  EXPECT_EQ(types.front(), "run.created");
  EXPECT_EQ(types.back(), "run.completed");
  EXPECT_EQ(std::count(types.begin(), types.end(), "plan.created"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "tool.requested"), 3);
  EXPECT_EQ(std::count(types.begin(), types.end(), "step.completed"), 5);
  EXPECT_GE(std::count(types.begin(), types.end(), "llm.delta"), 1);
  std::string streamed;
  for (const auto& e : events) {
    if (e["event"] == "llm.delta") streamed += e["delta"].get<std::string>();
  }
  EXPECT_EQ(streamed, "It is 42, hello.");
  // The planner was asked for structured output at temperature 0.2.
  auto requests = h.fake.requests();
  ASSERT_FALSE(requests.empty());
  const auto& plan_request = requests[0]["body"];
  EXPECT_EQ(plan_request["model"], "planner-m");
  EXPECT_DOUBLE_EQ(plan_request["temperature"].get<double>(), 0.2);
  EXPECT_TRUE(plan_request.contains("response_format"));
}

TEST_P(Engine, IndependentStepsRunInParallelAndDependentOnesWait) {
  json script = {
      {"rules",
       {rule_for_model(
            "planner-m",
            plan_reply({{{"id", "E1"}, {"tool", "llm"}, {"args", {{"prompt", "slow one"}}}},
                        {{"id", "E2"}, {"tool", "llm"}, {"args", {{"prompt", "slow two"}}}},
                        {{"id", "E3"}, {"tool", "llm"}, {"args", {{"prompt", "join #E1 #E2"}}}}})),
        rule_containing("slow one", {{"content", "one"}, {"delay_ms", 400}}),
        rule_containing("slow two", {{"content", "two"}, {"delay_ms", 400}}),
        rule_containing("join", {{"content", "both"}}), solver_rule()}}};
  auto& h = harness(script);
  auto run = h.submit("Two slow things, then join them.");
  ASSERT_EQ(h.wait_until_ended(run.id).status, run_status::completed);
  auto steps = h.steps(run.id);
  const auto& e1 = step_named(steps, "worker.E1");
  const auto& e2 = step_named(steps, "worker.E2");
  const auto& e3 = step_named(steps, "worker.E3");
  // Overlapping: each started before the other finished.
  EXPECT_LT(*e1.started_at, *e2.finished_at);
  EXPECT_LT(*e2.started_at, *e1.finished_at);
  EXPECT_GE(*e3.started_at, std::max(*e1.finished_at, *e2.finished_at));
  EXPECT_EQ(h.requests_containing("join one two", "tool-m"), 1);
}

TEST_P(Engine, InvalidPlanIsRepairedOnce) {
  json script = {
      {"rules",
       {{{"match", {{"model", "planner-m"}, {"contains", "Task:"}}},
         {"reply", plan_reply({{{"id", "E1"}, {"tool", "teleport"}, {"args", json::object()}}})}},
        {{"match", {{"model", "planner-m"}, {"contains", "cannot be used"}}},
         {"reply",
          plan_reply({{{"id", "E1"}, {"tool", "calculator"}, {"args", {{"expression", "1+1"}}}}})}},
        solver_rule("2")}}};
  auto& h = harness(script);
  auto run = h.submit("Add one and one.");
  auto ended = h.wait_until_ended(run.id);
  ASSERT_EQ(ended.status, run_status::completed) << ended.error_message.value_or("");
  // The repair request showed the model its mistake.
  EXPECT_EQ(h.requests_containing("unknown tool 'teleport'"), 1);
  EXPECT_EQ(step_named(h.steps(run.id), "worker.E1").output.value_or(""), "2");
  h.events(run.id);
}

struct bad_plan_case {
  std::string label;
  json reply;
  std::string reason;  // expected in the run's error message
  json options = json::object();
};

class EngineBadPlan : public ::testing::TestWithParam<std::tuple<std::string, bad_plan_case>> {};

TEST_P(EngineBadPlan, FailsTheRunWithTheReasonAfterOneRepair) {
  const auto& [backend, c] = GetParam();
  json script = {{"rules", {rule_for_model("planner-m", c.reply), solver_rule()}}};
  engine_harness h(script, nullptr, database_for(backend));
  auto run = h.submit("Do something.", c.options);
  auto ended = h.wait_until_ended(run.id);
  ASSERT_EQ(ended.status, run_status::failed);
  EXPECT_EQ(ended.error_code.value_or(""), "plan_invalid");
  EXPECT_NE(ended.error_message.value_or("").find(c.reason), std::string::npos)
      << ended.error_message.value_or("");
  EXPECT_NE(ended.error_message.value_or("").find("invalid twice"), std::string::npos);
  EXPECT_EQ(h.fake.requests().size(), 2U);  // the plan and one repair
  auto types = types_of(h.events(run.id));
  EXPECT_EQ(types.back(), "run.failed");
  EXPECT_EQ(std::count(types.begin(), types.end(), "step.failed"), 1);
}

INSTANTIATE_TEST_SUITE_P(
    Reasons, EngineBadPlan,
    ::testing::Combine(
        ::testing::ValuesIn(k_backends),
        ::testing::Values(
            bad_plan_case{
                "not_json", {{"content", "Sure! Here is my plan: step one..."}}, "not valid JSON"},
            bad_plan_case{"unknown_tool",
                          plan_reply({{{"id", "E1"}, {"tool", "rm_rf"}, {"args", json::object()}}}),
                          "unknown tool 'rm_rf'"},
            bad_plan_case{
                "cycle",
                plan_reply({{{"id", "E1"}, {"tool", "llm"}, {"args", {{"prompt", "use #E2"}}}},
                            {{"id", "E2"}, {"tool", "llm"}, {"args", {{"prompt", "use #E1"}}}}}),
                "cycle: E1 -> E2 -> E1"},
            bad_plan_case{
                "forward_reference",
                plan_reply(
                    {{{"id", "E1"}, {"tool", "llm"}, {"args", {{"prompt", "use #E2"}}}},
                     {{"id", "E2"}, {"tool", "calculator"}, {"args", {{"expression", "1"}}}}}),
                "refers to #E2, a later step"},
            bad_plan_case{
                "missing_reference",
                plan_reply({{{"id", "E1"}, {"tool", "llm"}, {"args", {{"prompt", "use #E7"}}}}}),
                "#E7, which no step produces"},
            bad_plan_case{
                "too_many_steps",
                plan_reply(
                    {{{"id", "E1"}, {"tool", "calculator"}, {"args", {{"expression", "1"}}}},
                     {{"id", "E2"}, {"tool", "calculator"}, {"args", {{"expression", "2"}}}},
                     {{"id", "E3"}, {"tool", "calculator"}, {"args", {{"expression", "3"}}}}}),
                "the plan has 3 steps; the limit is 2",
                {{"max_steps", 2}}},
            bad_plan_case{
                "bad_args",
                plan_reply({{{"id", "E1"}, {"tool", "calculator"}, {"args", {{"expr", "1"}}}}}),
                "invalid arguments for calculator"},
            bad_plan_case{
                "disallowed_tool",
                plan_reply({{{"id", "E1"}, {"tool", "llm"}, {"args", {{"prompt", "x"}}}}}),
                "which this run does not allow",
                {{"tools", {"calculator"}}}},
            bad_plan_case{
                "duplicate_ids",
                plan_reply(
                    {{{"id", "E1"}, {"tool", "calculator"}, {"args", {{"expression", "1"}}}},
                     {{"id", "E1"}, {"tool", "calculator"}, {"args", {{"expression", "2"}}}}}),
                "two steps have the id E1"})),
    [](const ::testing::TestParamInfo<std::tuple<std::string, bad_plan_case>>& param_info) {
      return std::get<1>(param_info.param).label + "_" + std::get<0>(param_info.param);
    });

json one_step_plan_script(const json& step_reply) {
  return {{"rules",
           {rule_for_model(
                "planner-m",
                plan_reply({{{"id", "E1"}, {"tool", "llm"}, {"args", {{"prompt", "the step"}}}}})),
            rule_containing("the step", step_reply), solver_rule()}}};
}

TEST_P(Engine, TokenBudgetEndsTheRun) {
  auto& h = harness(one_step_plan_script({{"content", "x"}}));
  auto run = h.submit("Anything.", {{"token_budget", 120}});
  auto ended = h.wait_until_ended(run.id);
  ASSERT_EQ(ended.status, run_status::failed);
  EXPECT_EQ(ended.error_code.value_or(""), "token_budget");
  EXPECT_NE(ended.error_message.value_or("").find("token budget of 120 exceeded"),
            std::string::npos);
  EXPECT_EQ(h.requests_containing("the step"), 0);  // no step ran after the plan broke the budget
  h.events(run.id);
}

TEST_P(Engine, StepTimeoutFailsTheStepAndTheRun) {
  json hang = {{"content", "never"}};
  json script = one_step_plan_script(hang);
  script["rules"][1]["fault"] = "hang";
  auto& h = harness(script);
  auto run = h.submit("Anything.", {{"step_timeout_s", 0.3}, {"max_replans", 0}});
  auto ended = h.wait_until_ended(run.id);
  ASSERT_EQ(ended.status, run_status::failed);
  EXPECT_EQ(ended.error_code.value_or(""), "step_failed");
  EXPECT_NE(ended.error_message.value_or("").find("timed out after 0.3 s"), std::string::npos)
      << ended.error_message.value_or("");
  EXPECT_EQ(step_named(h.steps(run.id), "worker.E1").status, "failed");
  h.events(run.id);
}

TEST_P(Engine, DeadlineEndsTheRun) {
  json script = one_step_plan_script({{"content", "never"}});
  script["rules"][1]["fault"] = "hang";
  auto& h = harness(script);
  auto run = h.submit("Anything.", {{"deadline_s", 0.8}});
  auto ended = h.wait_until_ended(run.id);
  ASSERT_EQ(ended.status, run_status::failed);
  EXPECT_EQ(ended.error_code.value_or(""), "deadline");
  EXPECT_NE(ended.error_message.value_or("").find("deadline of 0.8 s passed"), std::string::npos);
  h.events(run.id);
}

TEST_P(Engine, CancelStopsARunningStep) {
  json script = one_step_plan_script({{"content", "never"}});
  script["rules"][1]["fault"] = "hang";
  auto& h = harness(script);
  auto run = h.submit("Anything.");
  h.wait_for_event(run.id, "tool.requested");
  ASSERT_TRUE(h.eng->cancel_run(run.id, "changed my mind").has_value());
  auto ended = h.wait_until_ended(run.id);
  EXPECT_EQ(ended.status, run_status::cancelled);
  EXPECT_EQ(ended.error_message.value_or(""), "changed my mind");
  EXPECT_EQ(step_named(h.steps(run.id), "worker.E1").status, "cancelled");
  // Cancelling again is a conflict, not a second event.
  auto again = h.eng->cancel_run(run.id, "again");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, errc::conflict);
  // The hung call was abandoned: the pool drains promptly (the harness stops it), and the
  // run's events end with exactly one run.cancelled.
  auto types = types_of(h.events(run.id));
  EXPECT_EQ(types.back(), "run.cancelled");
  EXPECT_EQ(std::count(types.begin(), types.end(), "run.cancelled"), 1);
}

json approval_script() {
  return {{"rules",
           {rule_for_model("planner-m", plan_reply({{{"id", "E1"},
                                                     {"tool", "calculator"},
                                                     {"args", {{"expression", "2+3"}}}}})),
            solver_rule("done")}}};
}

TEST_P(Engine, ApprovalAsIs) {
  auto& h = harness(approval_script());
  auto run = h.submit("Add.", {{"require_approval", true}});
  h.wait_for_event(run.id, "run.awaiting_input");
  EXPECT_EQ((*h.st->get_run(run.id))->status, run_status::awaiting_input);
  EXPECT_TRUE(h.steps(run.id).size() == 1);  // only the planner: waiting holds no step
  ASSERT_TRUE(h.eng->approve_run(run.id, {}).has_value());
  auto ended = h.wait_until_ended(run.id);
  ASSERT_EQ(ended.status, run_status::completed);
  EXPECT_EQ(step_named(h.steps(run.id), "worker.E1").output.value_or(""), "5");
  auto events = h.events(run.id);
  auto waiting = std::find_if(events.begin(), events.end(),
                              [](const json& e) { return e["event"] == "run.awaiting_input"; });
  ASSERT_NE(waiting, events.end());
  EXPECT_EQ((*waiting)["estimate"]["model_calls"], 1);
  EXPECT_EQ((*waiting)["plan"]["steps"][0]["tool"], "calculator");
}

TEST_P(Engine, ApprovalWithAnEditedPlan) {
  auto& h = harness(approval_script());
  auto run = h.submit("Add.", {{"require_approval", true}});
  h.wait_for_event(run.id, "run.awaiting_input");
  engine::approval edit;
  edit.plan = json{
      {"steps", {{{"id", "E1"}, {"tool", "calculator"}, {"args", {{"expression", "10*10"}}}}}}};
  ASSERT_TRUE(h.eng->approve_run(run.id, edit).has_value());
  ASSERT_EQ(h.wait_until_ended(run.id).status, run_status::completed);
  EXPECT_EQ(step_named(h.steps(run.id), "worker.E1").output.value_or(""), "100");
  auto events = h.events(run.id);
  EXPECT_TRUE(std::any_of(events.begin(), events.end(), [](const json& e) {
    return e["event"] == "plan.created" && e.value("edited", false);
  }));
}

TEST_P(Engine, InvalidEditedPlanIsRefusedAndTheRunKeepsWaiting) {
  auto& h = harness(approval_script());
  auto run = h.submit("Add.", {{"require_approval", true}});
  h.wait_for_event(run.id, "run.awaiting_input");
  engine::approval edit;
  edit.plan =
      json{{"steps", {{{"id", "E1"}, {"tool", "calculator"}, {"args", {{"prompt", "x"}}}}}}};
  auto refused = h.eng->approve_run(run.id, edit);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, errc::invalid_argument);
  EXPECT_NE(refused.error().message.find("the edited plan is invalid"), std::string::npos);
  EXPECT_EQ((*h.st->get_run(run.id))->status, run_status::awaiting_input);
  // Rejecting ends it.
  engine::approval reject;
  reject.approve = false;
  reject.reason = "too risky";
  ASSERT_TRUE(h.eng->approve_run(run.id, reject).has_value());
  auto ended = h.wait_until_ended(run.id);
  EXPECT_EQ(ended.status, run_status::cancelled);
  EXPECT_EQ(ended.error_code.value_or(""), "plan_rejected");
  EXPECT_NE(ended.error_message.value_or("").find("too risky"), std::string::npos);
  EXPECT_EQ(h.eng->approve_run(run.id, {}).error().code, errc::conflict);
  h.events(run.id);
}

TEST_P(Engine, FailedStepIsReplanned) {
  json script = {
      {"rules",
       {{{"match", {{"model", "planner-m"}, {"contains", "previous plan failed"}}},
         {"reply",
          plan_reply(
              {{{"id", "E3"}, {"tool", "calculator"}, {"args", {{"expression", "#E1 + 1"}}}}})}},
        rule_for_model(
            "planner-m",
            plan_reply(
                {{{"id", "E1"}, {"tool", "calculator"}, {"args", {{"expression", "20+1"}}}},
                 {{"id", "E2"}, {"tool", "calculator"}, {"args", {{"expression", "1/0"}}}}})),
        solver_rule("22")}}};
  auto& h = harness(script);
  auto run = h.submit("Compute.", {{"max_replans", 1}});
  auto ended = h.wait_until_ended(run.id);
  ASSERT_EQ(ended.status, run_status::completed) << ended.error_message.value_or("");
  auto steps = h.steps(run.id);
  EXPECT_EQ(step_named(steps, "worker.E2").status, "replanned");  // failed, then replaced
  EXPECT_EQ(step_named(steps, "replanner.1").status, "completed");
  EXPECT_EQ(step_named(steps, "worker.E3").output.value_or(""), "22");
  // The replan prompt named the failure and the evidence already collected.
  EXPECT_EQ(h.requests_containing("division by zero"), 1);
  h.events(run.id);
}

// A step that becomes ready after another failed still runs, and the replan waits for it.
TEST_P(Engine, StepsIndependentOfAFailureRunBeforeTheReplan) {
  json script = {
      {"rules",
       {{{"match", {{"model", "planner-m"}, {"contains", "previous plan failed"}}},
         {"reply",
          plan_reply(
              {{{"id", "E4"}, {"tool", "calculator"}, {"args", {{"expression", "#E3 + 1"}}}}})}},
        rule_for_model(
            "planner-m",
            plan_reply(
                {{{"id", "E1"}, {"tool", "calculator"}, {"args", {{"expression", "1/0"}}}},
                 {{"id", "E2"}, {"tool", "calculator"}, {"args", {{"expression", "2+2"}}}},
                 {{"id", "E3"}, {"tool", "calculator"}, {"args", {{"expression", "#E2 * 10"}}}}})),
        solver_rule("41")}}};
  auto& h = harness(script);
  auto run = h.submit("Compute.", {{"max_replans", 1}});
  auto ended = h.wait_until_ended(run.id);
  ASSERT_EQ(ended.status, run_status::completed) << ended.error_message.value_or("");
  auto steps = h.steps(run.id);
  EXPECT_EQ(step_named(steps, "worker.E1").status, "replanned");
  EXPECT_EQ(step_named(steps, "worker.E3").output.value_or(""), "40");
  EXPECT_EQ(step_named(steps, "worker.E4").output.value_or(""), "41");
  // One replan, and it saw the evidence of the step that ran after the failure.
  EXPECT_EQ(h.requests_containing("previous plan failed"), 1);
  EXPECT_EQ(h.requests_containing("#E3 = calculator", "planner-m"), 1);
  h.events(run.id);
}

// A replan may not give a new step the id of the failed one: that is a plan error, which
// gets the usual repair call.
TEST_P(Engine, ReplanReusingAFailedStepIdIsRepaired) {
  json script = {
      {"rules",
       {{{"match", {{"model", "planner-m"}, {"contains", "reuses the id of an earlier step"}}},
         {"reply",
          plan_reply({{{"id", "E2"}, {"tool", "calculator"}, {"args", {{"expression", "3*3"}}}}})}},
        {{"match", {{"model", "planner-m"}, {"contains", "previous plan failed"}}},
         {"reply",
          plan_reply({{{"id", "E1"}, {"tool", "calculator"}, {"args", {{"expression", "3*3"}}}}})}},
        rule_for_model("planner-m", plan_reply({{{"id", "E1"},
                                                 {"tool", "calculator"},
                                                 {"args", {{"expression", "1/0"}}}}})),
        solver_rule("9")}}};
  auto& h = harness(script);
  auto run = h.submit("Compute.", {{"max_replans", 1}});
  auto ended = h.wait_until_ended(run.id);
  ASSERT_EQ(ended.status, run_status::completed) << ended.error_message.value_or("");
  auto steps = h.steps(run.id);
  EXPECT_EQ(step_named(steps, "worker.E1").status, "replanned");
  EXPECT_EQ(step_named(steps, "worker.E2").output.value_or(""), "9");
  EXPECT_EQ(h.requests_containing("reuses the id of an earlier step"), 1);
  h.events(run.id);
}

TEST_P(Engine, FailedStepWithoutReplansFailsTheRun) {
  json script = {{"rules",
                  {rule_for_model("planner-m", plan_reply({{{"id", "E1"},
                                                            {"tool", "calculator"},
                                                            {"args", {{"expression", "1/0"}}}}})),
                   solver_rule()}}};
  auto& h = harness(script);
  auto run = h.submit("Divide.", {{"max_replans", 0}});
  auto ended = h.wait_until_ended(run.id);
  ASSERT_EQ(ended.status, run_status::failed);
  EXPECT_EQ(ended.error_code.value_or(""), "step_failed");
  EXPECT_NE(ended.error_message.value_or("").find("step E1 (calculator) failed"),
            std::string::npos);
  h.events(run.id);
}

TEST_P(Engine, RetryableToolFailureIsRetried) {
  json script = one_step_plan_script({{"content", "fine"}});
  // The first call of the step's model gets a 503 (the client does not retry: max_attempts 1).
  json failing_once = {{"match", {{"model", "tool-m"}, {"contains", "the step"}}},
                       {"times", 1},
                       {"fault", "status"},
                       {"fault_options", {{"status", 503}}}};
  script["rules"].insert(script["rules"].begin() + 1, failing_once);
  auto& h = harness(script);
  auto run = h.submit("Anything.");
  auto ended = h.wait_until_ended(run.id);
  ASSERT_EQ(ended.status, run_status::completed) << ended.error_message.value_or("");
  auto e1 = step_named(h.steps(run.id), "worker.E1");
  EXPECT_EQ(e1.attempts, 2);
  EXPECT_EQ(e1.output.value_or(""), "fine");
  auto types = types_of(h.events(run.id));
  EXPECT_EQ(std::count(types.begin(), types.end(), "step.retrying"), 1);
}

TEST_P(Engine, UnreachableModelServerFailsFastAndSaysWhatToDo) {
  auto& h = harness(json::object(), [](config& c) {
    // A loopback port nothing listens on (the fake server's own, once stopped below).
    c.llm_base_url = "http://127.0.0.1:9/v1";
  });
  auto run = h.submit("Anything.");
  auto ended = h.wait_until_ended(run.id);
  ASSERT_EQ(ended.status, run_status::failed);
  EXPECT_EQ(ended.error_code.value_or(""), "model_unreachable");
  EXPECT_NE(ended.error_message.value_or("").find("GROK_LLM_BASE_URL"), std::string::npos);
  h.events(run.id);
}

TEST_P(Engine, RejectsBadRunRequests) {
  auto& h = harness(json::object());
  engine::create_run_request empty;
  EXPECT_EQ(h.eng->create_run(empty).error().code, errc::invalid_argument);
  engine::create_run_request huge;
  huge.input.assign(engine::k_max_input_bytes + 1, 'x');
  EXPECT_EQ(h.eng->create_run(huge).error().code, errc::invalid_argument);
  for (const json& options : {json{{"max_steps", "many"}}, json{{"max_steps", 0}},
                              json{{"tools", {"nope"}}}, json{{"deadline_s", -1}},
                              json{{"surprise", true}}, json{{"temperature", 9}}, json::array()}) {
    engine::create_run_request req;
    req.input = "x";
    req.options = options;
    auto r = h.eng->create_run(req);
    ASSERT_FALSE(r.has_value()) << options.dump();
    EXPECT_EQ(r.error().code, errc::invalid_argument);
    EXPECT_NE(r.error().message.find("options"), std::string::npos) << r.error().message;
  }
  EXPECT_EQ(h.eng->cancel_run("run_nope", "").error().code, errc::not_found);
}

INSTANTIATE_TEST_SUITE_P(Backends, Engine, ::testing::ValuesIn(k_backends),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           return param_info.param;
                         });

}  // namespace
}  // namespace grok::testing
