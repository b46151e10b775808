// The audit log and the JSON logs as an operator sees them: a real `grok serve` runs a task
// whose input, tool output and answer hold secrets; afterwards the audit files have every
// event of the run in order and none of the secrets, `grok audit verify` passes, and finds
// the line edited in a copy; the server's stderr is JSON lines with request ids.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests_support/api_client.h"
#include "tests_support/fake_model_server.h"
#include "tests_support/grok_server.h"
#include "tests_support/process.h"
#include "tests_support/temp_dir.h"

namespace grok {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using testing::api_call;
using testing::program_path;
using testing::run_program;

const std::string k_input_secret = "SECRET-INPUT-7f3a91";
const std::string k_args_secret = "SECRET-ARGS-c0ffee";
const std::string k_tool_secret = "SECRET-TOOL-9b2c44";
const std::string k_answer_secret = "SECRET-ANSWER-4d1e08";
const std::string k_audit_key = "e2e-audit-key";

// The planner asks the `llm` tool something; the tool's model call gets the default reply
// (the tool's output); the solver answers.
json script() {
  json plan = {{"steps",
                {{{"id", "E1"}, {"tool", "calculator"}, {"args", {{"expression", "6 * 7"}}}},
                 {{"id", "E2"}, {"tool", "llm"}, {"args", {{"prompt", "Say " + k_args_secret}}}}}}};
  return {
      {"rules",
       {{{"match", {{"contains", "You are the planner"}}},
         {"reply", {{"json", plan}, {"usage", true}}}},
        {{"match", {{"contains", "You are the solver"}}},
         {"reply",
          {{"content", "It is 42. " + k_answer_secret}, {"usage", true}, {"chunk_chars", 8}}}}}},
      {"default", {{"content", "the tool says " + k_tool_secret}, {"usage", true}}}};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// The audit files of `dir`, oldest first.
std::vector<std::filesystem::path> audit_files(const std::string& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".jsonl") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

testing::run_output grok_audit_verify(const std::string& data_dir, std::vector<std::string> extra,
                                      std::map<std::string, std::string> env) {
  std::vector<std::string> argv = {program_path("grok"), "--data-dir", data_dir, "audit", "verify"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run_program(argv, env);
}

TEST(audit_e2e, a_runs_events_are_audited_in_order_without_secrets_and_verify) {
  testing::fake_model_server fake(script());
  testing::grok_server server({{"GROK_LLM_BASE_URL", fake.base_url()},
                               {"GROK_PLANNER_MODEL", "planner-m"},
                               {"GROK_SOLVER_MODEL", "solver-m"},
                               {"GROK_LOG_LEVEL", "debug"},
                               {"GROK_AUDIT_SECRET", k_audit_key}});
  const auto key = server.create_key("runs", "alice");
  server.start();

  auto created =
      api_call("POST", server.url("/v1/runs"),
               {"Authorization: Bearer " + key, "Content-Type: application/json",
                "X-Request-Id: e2e-create-1"},
               json{{"input", "What is 6 times 7? The passphrase is " + k_input_secret}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string run_id = created.json()["id"];
  auto sse = testing::read_sse(server.url("/v1/runs/" + run_id + "/stream"),
                               {"Authorization: Bearer " + key}, 60s);
  ASSERT_TRUE(sse.ended) << sse.raw;
  ASSERT_EQ(sse.events.back().event, "run.completed") << sse.raw;
  // The secrets really were in the run: the API shows them to its owner.
  EXPECT_NE(sse.raw.find(k_tool_secret), std::string::npos);
  EXPECT_NE(sse.raw.find(k_answer_secret), std::string::npos);
  ASSERT_EQ(server.stop(), 0);

  // Every event of the run, in order, and no secret anywhere in the audit files.
  const auto audit_dir = server.data_dir() + "/audit";
  const auto files = audit_files(audit_dir);
  ASSERT_FALSE(files.empty());
  std::string all;
  for (const auto& f : files) all += read_file(f.string());
  for (const auto& secret : {k_input_secret, k_args_secret, k_tool_secret, k_answer_secret}) {
    EXPECT_EQ(all.find(secret), std::string::npos) << secret << " is in the audit log";
  }
  std::vector<std::string> audited_types;
  std::int64_t audit_seq = 0;
  for (const auto& line : lines_of(all)) {
    auto doc = json::parse(line);
    EXPECT_EQ(doc["audit_seq"], ++audit_seq);
    EXPECT_EQ(doc["alg"], "hmac-sha256");
    if (doc.value("run_id", "") != run_id) continue;
    EXPECT_EQ(doc["seq"], static_cast<int>(audited_types.size() + 1));
    audited_types.push_back(doc["event"]);
  }
  std::vector<std::string> streamed_types;
  for (const auto& e : sse.events) streamed_types.push_back(e.event);
  EXPECT_EQ(audited_types, streamed_types);

  // grok audit verify: intact with the key; a clear error without it.
  const std::map<std::string, std::string> keyed = {{"GROK_AUDIT_SECRET", k_audit_key}};
  auto ok = grok_audit_verify(server.data_dir(), {}, keyed);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("audit log intact"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("HMAC-SHA256"), std::string::npos) << ok.out;
  auto as_json = grok_audit_verify(server.data_dir(), {"--json"}, keyed);
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  auto report = json::parse(as_json.out);
  EXPECT_EQ(report["intact"], true);
  EXPECT_EQ(report["events"], static_cast<int>(sse.events.size()));
  EXPECT_EQ(report["keyed"], true);
  auto no_key = grok_audit_verify(server.data_dir(), {}, {});
  EXPECT_EQ(no_key.exit_code, 1);
  EXPECT_NE(no_key.err.find("GROK_AUDIT_SECRET"), std::string::npos) << no_key.err;

  // A tampered copy: the first bad line is named.
  testing::temp_dir scratch;
  const auto copy = scratch.file("audit-copy");
  std::filesystem::copy(audit_dir, copy);
  const auto victim = audit_files(copy).front();
  auto lines = lines_of(read_file(victim.string()));
  ASSERT_GE(lines.size(), 4U);
  const auto at = lines[3].find("\"seq\":3");
  ASSERT_NE(at, std::string::npos) << lines[3];
  lines[3].replace(at, 7, "\"seq\":9");
  {
    std::ofstream out(victim, std::ios::trunc | std::ios::binary);
    for (const auto& l : lines) out << l << "\n";
  }
  auto bad = grok_audit_verify(server.data_dir(), {"--dir", copy}, keyed);
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_NE(bad.out.find("first bad line: " + victim.string() + ":4: edited"), std::string::npos)
      << bad.out;
  auto missing = grok_audit_verify(server.data_dir(), {"--dir", scratch.file("nothing")}, keyed);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no audit directory"), std::string::npos) << missing.err;

  // The server's stderr: JSON lines; request logs carry their request id.
  bool saw_request = false;
  for (const auto& line : lines_of(server.log_text())) {
    auto doc = json::parse(line, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << "not JSON: " << line;
    ASSERT_TRUE(doc["ts"].is_string() && doc["level"].is_string() && doc["msg"].is_string())
        << line;
    const std::string msg = doc["msg"];
    if (msg.rfind("request ", 0) == 0) {
      ASSERT_TRUE(doc.contains("request_id")) << line;
      EXPECT_NE(msg.find(doc["request_id"].get<std::string>()), std::string::npos) << line;
      if (doc["request_id"] == "e2e-create-1") saw_request = true;
    }
    EXPECT_EQ(line.find(k_input_secret), std::string::npos) << "a secret in the server log";
  }
  EXPECT_TRUE(saw_request) << server.log_text();
}

}  // namespace
}  // namespace grok
