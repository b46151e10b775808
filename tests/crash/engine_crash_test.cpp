// Crash recovery with real processes: `grok run` and then `grok serve` are SIGKILLed while
// a model call is in flight at three points of one run (planning, a step, solving). The
// fake model server hangs exactly those calls the first time, so each kill lands at a known
// point with no timing guesses. After the last restart the run must complete, no step
// whose result was stored may have run again, and no recorded model call may have been
// sent to the model server again.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include "engine/events.h"
#include "store/open_store.h"
#include "store/sqlite/sqlite_store.h"
#include "tests_support/engine_harness.h"
#include "tests_support/fake_model_server.h"
#include "tests_support/process.h"
#include "tests_support/temp_dir.h"

namespace grok::testing {
namespace {

using json = nlohmann::json;

// Waits for an outside process to reach a state. Polling is the only way to watch another
// process's database and the fake server's log; the condition, not the delay, decides.
template <class F>
bool eventually(F condition, std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < give_up) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

int count_requests(const fake_model_server& fake, const std::string& model,
                   const std::string& text = "") {
  int n = 0;
  for (const auto& r : fake.requests()) {
    if (r["body"].value("model", "") != model) continue;
    const auto& msgs = r["body"]["messages"];
    const auto content = msgs.back().value("content", "");
    if (text.empty() || content.find(text) != std::string::npos) ++n;
  }
  return n;
}

std::optional<store::step_record> step_named(store::store& st, const std::string& run_id,
                                             const std::string& name) {
  auto steps = st.list_steps(run_id);
  if (!steps) return std::nullopt;
  for (auto& s : *steps) {
    if (s.name == name) return s;
  }
  return std::nullopt;
}

TEST(EngineCrash, KilledAtThreePointsTheRunCompletesWithoutRepeatingWork) {
  json hang = {{"content", "never"}};
  json script = {
      {"rules",
       {{{"match", {{"model", "planner-m"}}}, {"times", 1}, {"fault", "hang"}, {"reply", hang}},
        {{"match", {{"model", "planner-m"}}},
         {"reply",
          {{"json",
            {{"steps",
              {{{"id", "E1"}, {"tool", "llm"}, {"args", {{"prompt", "alpha"}}}},
               {{"id", "E2"}, {"tool", "llm"}, {"args", {{"prompt", "beta"}}}},
               {{"id", "E3"}, {"tool", "llm"}, {"args", {{"prompt", "gamma #E1 #E2"}}}}}}}}}}},
        {{"match", {{"model", "tool-m"}, {"contains", "alpha"}}}, {"reply", {{"content", "A"}}}},
        {{"match", {{"model", "tool-m"}, {"contains", "beta"}}},
         {"times", 1},
         {"fault", "hang"},
         {"reply", hang}},
        {{"match", {{"model", "tool-m"}, {"contains", "beta"}}}, {"reply", {{"content", "B"}}}},
        {{"match", {{"model", "tool-m"}, {"contains", "gamma"}}}, {"reply", {{"content", "G"}}}},
        {{"match", {{"model", "solver-m"}}}, {"times", 1}, {"fault", "hang"}, {"reply", hang}},
        {{"match", {{"model", "solver-m"}}}, {"reply", {{"content", "all done"}}}}}}};
  fake_model_server fake(script);
  temp_dir dir;
  const auto data = dir.file("data");
  {
    std::ofstream toml(dir.file("grok.toml"));
    toml << "[models.llm]\nmodel = \"tool-m\"\n";
  }
  const std::map<std::string, std::string> env = {
      {"GROK_CONFIG", dir.file("grok.toml")},
      {"GROK_DATA_DIR", data},
      {"GROK_LLM_BASE_URL", fake.base_url()},
      {"GROK_PLANNER_MODEL", "planner-m"},
      {"GROK_SOLVER_MODEL", "solver-m"},
      {"GROK_LLM_MAX_ATTEMPTS", "1"},
      // A killed process's leases run out quickly, so the restart picks its jobs up soon.
      {"GROK_QUEUE_LEASE_MS", "300"},
      {"GROK_QUEUE_IDLE_RECHECK_MS", "50"},
  };

  // 1. `grok run`, killed while the planner call hangs.
  auto runner = std::make_unique<child_process>(
      std::vector<std::string>{program_path("grok"), "run", "Find alpha, beta and gamma"}, env);
  ASSERT_TRUE(eventually([&] { return count_requests(fake, "planner-m") == 1; }));
  runner->send_signal(SIGKILL);
  runner->wait(std::chrono::seconds(10));
  runner.reset();

  auto opened = store::open_store({.url = "sqlite://" + data + "/grok.db"});
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  auto& st = **opened;
  auto runs = st.list_runs({});
  ASSERT_TRUE(runs.has_value());
  ASSERT_EQ(runs->size(), 1U);
  const auto run_id = runs->front().id;

  auto serve = [&] {
    return std::make_unique<child_process>(std::vector<std::string>{program_path("grok"), "serve"},
                                           env);
  };

  // 2. `grok serve` resumes the run; killed while E2 hangs, after E1 finished.
  auto server = serve();
  ASSERT_TRUE(eventually([&] {
    auto e1 = step_named(st, run_id, "worker.E1");
    return count_requests(fake, "tool-m", "beta") == 1 && e1 && e1->status == "completed";
  }));
  server->send_signal(SIGKILL);
  server->wait(std::chrono::seconds(10));

  // 3. Again; killed while the solver's call hangs.
  server = serve();
  ASSERT_TRUE(eventually([&] { return count_requests(fake, "solver-m") == 1; }));
  server->send_signal(SIGKILL);
  server->wait(std::chrono::seconds(10));

  // 4. The last restart finishes the run.
  server = serve();
  ASSERT_TRUE(eventually([&] {
    auto run = st.get_run(run_id);
    return run && *run && store::is_terminal((*run)->status);
  }));
  server->send_signal(SIGTERM);
  EXPECT_EQ(server->wait(std::chrono::seconds(30)), 0) << server->stderr_text();

  auto run = **st.get_run(run_id);
  ASSERT_EQ(run.status, store::run_status::completed) << run.error_message.value_or("");
  EXPECT_EQ(run.answer.value_or(""), "all done");

  // Each call hung once and was made once more; every other call exactly once.
  EXPECT_EQ(count_requests(fake, "planner-m"), 2);
  EXPECT_EQ(count_requests(fake, "tool-m", "alpha"), 1);
  EXPECT_EQ(count_requests(fake, "tool-m", "beta"), 2);
  EXPECT_EQ(count_requests(fake, "tool-m", "gamma A B"), 1);
  EXPECT_EQ(count_requests(fake, "solver-m"), 2);
  // Steps whose results were stored before a kill ran once.
  EXPECT_EQ(step_named(st, run_id, "worker.E1")->attempts, 1);
  EXPECT_EQ(step_named(st, run_id, "worker.E3")->attempts, 1);
  EXPECT_EQ(step_named(st, run_id, "worker.E2")->attempts, 2);

  // Events: gapless, valid, one terminal event at the end.
  auto events = st.events_after(run_id, 0, 10'000);
  ASSERT_TRUE(events.has_value());
  std::int64_t expected = 1;
  int terminal = 0;
  for (const auto& e : *events) {
    EXPECT_EQ(e.seq, expected++);
    EXPECT_EQ(check_event_schema(engine::envelope(e)), "");
    terminal += engine::is_terminal_event(e.type) ? 1 : 0;
  }
  EXPECT_EQ(terminal, 1);
  EXPECT_EQ(events->back().type, "run.completed");
  auto* sqlite = dynamic_cast<store::sqlite::sqlite_store*>(&st);
  ASSERT_NE(sqlite, nullptr);
  auto problems = sqlite->integrity_check();
  ASSERT_TRUE(problems.has_value()) << problems.error().message;
  EXPECT_TRUE(problems->empty()) << problems->front();
}

}  // namespace
}  // namespace grok::testing
