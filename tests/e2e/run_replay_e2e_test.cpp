// `grok run` and `grok replay` as a user runs them: the real binary against the scripted
// fake model server over HTTP, then replayed with that server stopped.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests_support/fake_model_server.h"
#include "tests_support/process.h"
#include "tests_support/temp_dir.h"

namespace grok {
namespace {

using json = nlohmann::json;
using testing::fake_model_server;
using testing::program_path;
using testing::run_program;
using testing::temp_dir;

// A three-step plan, E2 and E3 using #E1, one of them the llm tool.
json script() {
  json plan = {
      {"steps",
       {{{"id", "E1"}, {"tool", "calculator"}, {"args", {{"expression", "1337 * 42"}}}},
        {{"id", "E2"}, {"tool", "calculator"}, {"args", {{"expression", "sqrt(#E1)"}}}},
        {{"id", "E3"}, {"tool", "llm"}, {"args", {{"prompt", "Say why #E1 is a fun number."}}}}}}};
  return {{"rules",
           {{{"match", {{"contains", "You are the planner"}}},
             {"reply", {{"json", plan}, {"usage", true}}}},
            {{"match", {{"contains", "You are the solver"}}},
             {"reply",
              {{"content", "1337 x 42 = 56154; its square root is about 236.97."},
               {"usage", true},
               {"chunk_chars", 5}}}},
            {{"match", {{"contains", "fun number"}}},
             {"reply", {{"content", "It reads as leet."}, {"usage", true}}}}}}};
}

class run_replay_e2e : public ::testing::Test {
 protected:
  testing::run_output grok(std::vector<std::string> args, const std::string& base_url) {
    args.insert(args.begin(), {program_path("grok"), "--data-dir", dir_.file("data")});
    return run_program(args,
                       {{"GROK_LLM_BASE_URL", base_url},
                        {"GROK_PLANNER_MODEL", "planner-m"},
                        {"GROK_SOLVER_MODEL", "solver-m"}},
                       dir_.path().string());
  }
  temp_dir dir_;
};

std::vector<json> ndjson(const std::string& text) {
  std::vector<json> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    auto doc = json::parse(line, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << line;
    out.push_back(doc);
  }
  return out;
}

TEST_F(run_replay_e2e, run_shows_progress_and_replay_needs_no_model_server) {
  fake_model_server fake(script());
  auto r = grok({"run", "What is 1337 times 42, and its square root?"}, fake.base_url());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The answer alone on stdout; the plan, the steps and the totals on stderr.
  EXPECT_EQ(r.out, "1337 x 42 = 56154; its square root is about 236.97.\n");
  EXPECT_NE(r.err.find("plan (3 steps):"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ok E1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("> E2 calculator {\"expression\":\"sqrt(56154)\"}"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("completed · tokens"), std::string::npos) << r.err;
  const auto id_at = r.err.find("run run_");
  ASSERT_NE(id_at, std::string::npos) << r.err;
  const auto run_id = r.err.substr(id_at + 4, r.err.find('\n', id_at) - id_at - 4);
  const auto calls = fake.requests().size();
  EXPECT_EQ(calls, 3U);

  // Replayed with the model server gone: every answer comes from the recording.
  const auto base_url = fake.base_url();
  fake.stop();
  auto replay = grok({"replay", run_id}, base_url);
  EXPECT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_EQ(replay.out, r.out);
  EXPECT_NE(replay.err.find("identical"), std::string::npos) << replay.err;

  // A changed solver prompt makes a request the recording never saw: the replay says
  // where it diverged, and exits 1.
  std::filesystem::create_directories(dir_.file("prompts"));
  for (const char* name : {"planner", "repair", "replan", "solver", "llm_tool"}) {
    std::ifstream in(std::string(GROK_SOURCE_DIR) + "/prompts/" + name + ".mustache");
    std::stringstream text;
    text << in.rdbuf();
    std::string body = text.str();
    if (std::string(name) == "solver") body += "\nOne more instruction.\n";
    std::ofstream(dir_.file("prompts/" + std::string(name) + ".mustache")) << body;
  }
  std::ofstream(dir_.file("grok.toml"))
      << "[engine]\nprompts_dir = \"" << dir_.file("prompts") << "\"\n";
  auto diverged = grok({"--config", dir_.file("grok.toml"), "replay", run_id, "--json"}, base_url);
  EXPECT_EQ(diverged.exit_code, 1) << diverged.err;
  auto lines = ndjson(diverged.out);
  ASSERT_FALSE(lines.empty());
  const auto& verdict = lines.back();
  EXPECT_EQ(verdict["event"], "replay.compared");
  EXPECT_EQ(verdict["identical"], false);
  EXPECT_NE(verdict["first_divergence"].get<std::string>().find("solver"), std::string::npos)
      << verdict.dump();
  EXPECT_NE(verdict["first_divergence"].get<std::string>().find("not_recorded"), std::string::npos)
      << verdict.dump();
}

TEST_F(run_replay_e2e, run_json_prints_every_event_with_gapless_seq) {
  fake_model_server fake(script());
  auto r = grok({"run", "--json", "Compute it."}, fake.base_url());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto events = ndjson(r.out);
  ASSERT_GE(events.size(), 10U);
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i]["seq"], static_cast<int>(i + 1)) << events[i].dump();
    EXPECT_EQ(events[i]["schema"], 1);
  }
  EXPECT_EQ(events.front()["event"], "run.created");
  EXPECT_EQ(events.back()["event"], "run.completed");
}

TEST_F(run_replay_e2e, unreachable_model_server_fails_the_run_with_a_hint) {
  fake_model_server fake(script());
  const auto base_url = fake.base_url();
  fake.stop();  // nothing listens on its port any more
  auto r = grok({"run", "--deadline", "20", "Compute it."}, base_url);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("GROK_LLM_BASE_URL"), std::string::npos) << r.err;
}

TEST_F(run_replay_e2e, replay_errors_are_clear) {
  fake_model_server fake(script());
  auto none = grok({"replay", "run_missing"}, fake.base_url());
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("grok: error:"), std::string::npos) << none.err;
  ASSERT_EQ(grok({"run", "Compute it."}, fake.base_url()).exit_code, 0);
  auto unknown = grok({"replay", "run_01ZZZZZZZZZZZZZZZZZZZZZZZZ"}, fake.base_url());
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no run run_01ZZZZZZZZZZZZZZZZZZZZZZZZ"), std::string::npos)
      << unknown.err;
  auto usage = grok({"replay"}, fake.base_url());
  EXPECT_EQ(usage.exit_code, 2);
}

}  // namespace
}  // namespace grok
