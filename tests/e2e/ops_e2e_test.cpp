// Operations as an operator does them, against a real `grok serve` and the scripted fake
// model server: `grok backup` while the server runs and writes, `grok backup verify`,
// `grok restore` (refused while the server runs; into a fresh data directory after),
// `grok prune` (keeps a waiting run), scheduled backups, and clear errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests_support/api_client.h"
#include "tests_support/fake_model_server.h"
#include "tests_support/grok_server.h"
#include "tests_support/temp_dir.h"

namespace grok {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::api_call;
using testing::fake_model_server;
using testing::grok_server;
using testing::run_output;
using testing::temp_dir;
using namespace std::chrono_literals;

json script() { return testing::calculator_script(); }

std::string bearer(const std::string& key) { return "Authorization: Bearer " + key; }
const std::string k_json = "Content-Type: application/json";

// Polls `done` until it holds or `timeout` passes.
template <class Pred>
bool eventually(Pred done, std::chrono::milliseconds timeout = 60s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class ops_e2e : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = std::make_unique<fake_model_server>(script());
    env_ = {{"GROK_LLM_BASE_URL", fake_->base_url()},
            {"GROK_PLANNER_MODEL", "planner-m"},
            {"GROK_SOLVER_MODEL", "solver-m"},
            {"GROK_LOG_LEVEL", "info"},
            // Off unless a test turns them on, so that each test sees only its own work.
            {"GROK_BACKUP_INTERVAL_S", "0"},
            {"GROK_RETENTION_INTERVAL_S", "0"}};
  }
  void start(std::map<std::string, std::string> extra = {}) {
    for (auto& [k, v] : extra) env_[k] = v;
    server_ = std::make_unique<grok_server>(env_);
    admin_ = server_->create_key("admin", "ops");
    alice_ = server_->create_key("runs", "alice");
    server_->start(2);
  }
  // `grok --data-dir DIR ARGS...`
  run_output grok(const std::string& data_dir, std::vector<std::string> args) const {
    std::vector<std::string> argv = {testing::program_path("grok"), "--data-dir", data_dir};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run_program(argv, env_);
  }
  std::string create_run(const std::string& base_url, const json& body) const {
    auto r = api_call("POST", base_url + "/v1/runs", {bearer(alice_), k_json}, body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }
  std::string status_of(const std::string& base_url, const std::string& id) const {
    auto r = api_call("GET", base_url + "/v1/runs/" + id, {bearer(alice_)});
    if (r.status == 404) return "gone";
    return r.json().value("status", "?");
  }
  bool wait_status(const std::string& id, const std::string& status) const {
    return eventually([&] { return status_of(server_->url(), id) == status; });
  }

  std::unique_ptr<fake_model_server> fake_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<grok_server> server_;
  std::string admin_, alice_;
};

TEST_F(ops_e2e, backup_while_serving_verify_and_restore_into_a_fresh_data_dir) {
  start();
  const auto data = server_->data_dir();
  std::vector<std::string> finished;
  for (int i = 0; i < 4; ++i) finished.push_back(create_run(server_->url(), {{"input", "6*7+1?"}}));
  for (const auto& id : finished) ASSERT_TRUE(wait_status(id, "completed")) << id;

  // Runs keep arriving and running while the backup is taken.
  std::atomic<bool> stop{false};
  std::atomic<int> created_during{0};
  std::thread load([&] {
    while (!stop) {
      auto r = api_call("POST", server_->url("/v1/runs"), {bearer(alice_), k_json},
                        json{{"input", "more load"}}.dump());
      if (r.status == 201) ++created_during;
    }
  });
  ASSERT_TRUE(eventually([&] { return created_during > 0; }));
  temp_dir out;
  const auto backup = out.file("b/grok-backup.db");
  auto taken = grok(data, {"backup", "--to", backup});
  EXPECT_EQ(taken.exit_code, 0) << taken.err;
  EXPECT_NE(taken.out.find(backup), std::string::npos) << taken.out;
  EXPECT_NE(taken.out.find(std::to_string(fs::file_size(backup)) + " bytes"), std::string::npos)
      << taken.out;

  // The same path again: refused, the backup untouched.
  const auto size = fs::file_size(backup);
  auto again = grok(data, {"backup", "--to", backup});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  EXPECT_EQ(fs::file_size(backup), size);

  auto verified = grok(data, {"backup", "verify", backup});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_NE(verified.out.find(": ok"), std::string::npos) << verified.out;
  EXPECT_NE(verified.out.find("events"), std::string::npos) << verified.out;
  auto as_json = grok(data, {"backup", "verify", "--json", backup});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  const auto report = json::parse(as_json.out);
  EXPECT_EQ(report["ok"], true);
  EXPECT_GE(report["tables"]["runs"].get<int>(), 4);
  EXPECT_GE(report["tables"]["events"].get<int>(), 4 * 8);
  EXPECT_GE(report["tables"]["api_keys"].get<int>(), 2);
  EXPECT_TRUE(report["problems"].empty());

  // The server has the database open: restore must not replace it.
  auto refused = grok(data, {"restore", "--from", backup, "--force"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("stop the server first"), std::string::npos) << refused.err;

  stop = true;
  load.join();
  ASSERT_EQ(server_->stop(), 0);

  temp_dir fresh;
  const auto fresh_data = fresh.file("data");
  auto restored = grok(fresh_data, {"restore", "--from", backup});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_NE(restored.out.find("restored"), std::string::npos) << restored.out;
  auto twice = grok(fresh_data, {"restore", "--from", backup});
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_NE(twice.err.find("--force"), std::string::npos) << twice.err;

  grok_server second(env_, fresh_data);
  second.start(1);
  EXPECT_TRUE(second.first_admin_key().empty()) << "the keys came back with the backup";
  for (const auto& id : finished) {
    auto r = api_call("GET", second.url("/v1/runs/" + id), {bearer(alice_)});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["status"], "completed");
    auto events = api_call("GET", second.url("/v1/runs/" + id + "/events"), {bearer(alice_)});
    ASSERT_EQ(events.status, 200);
    const auto data_events = events.json()["data"];
    ASSERT_GE(data_events.size(), 8U);
    for (std::size_t i = 0; i < data_events.size(); ++i) EXPECT_EQ(data_events[i]["seq"], i + 1);
    EXPECT_EQ(data_events.back()["event"], "run.completed");
  }
  auto listed = api_call("GET", second.url("/v1/runs?limit=100"), {bearer(alice_)});
  ASSERT_EQ(listed.status, 200);
  EXPECT_GE(listed.json()["data"].size(), finished.size());
}

TEST_F(ops_e2e, prune_deletes_finished_runs_and_keeps_a_waiting_one) {
  start();
  const auto data = server_->data_dir();
  std::vector<std::string> done;
  for (int i = 0; i < 2; ++i) done.push_back(create_run(server_->url(), {{"input", "6*7+1?"}}));
  const auto waiting = create_run(
      server_->url(), {{"input", "wait for me"}, {"options", {{"require_approval", true}}}});
  for (const auto& id : done) ASSERT_TRUE(wait_status(id, "completed"));
  ASSERT_TRUE(wait_status(waiting, "awaiting_input"));

  auto dry = grok(data, {"prune", "--older-than", "0s", "--dry-run", "--json"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  const auto counted = json::parse(dry.out);
  EXPECT_EQ(counted["dry_run"], true);
  EXPECT_EQ(counted["runs"], 2);
  EXPECT_GT(counted["events"].get<int>(), 2 * 8);
  for (const auto& id : done) EXPECT_EQ(status_of(server_->url(), id), "completed");

  auto pruned = grok(data, {"prune", "--older-than", "0s", "--json"});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  const auto counts = json::parse(pruned.out);
  EXPECT_EQ(counts["runs"], 2);
  EXPECT_EQ(counts["events"], counted["events"]);
  EXPECT_EQ(counts["steps"], counted["steps"]);
  EXPECT_EQ(counts["llm_calls"], counted["llm_calls"]);
  EXPECT_GT(counts["llm_calls"].get<int>(), 0);
  for (const auto& id : done) EXPECT_EQ(status_of(server_->url(), id), "gone");
  EXPECT_EQ(status_of(server_->url(), waiting), "awaiting_input");

  // The waiting run lost nothing it needs: approved, it runs to the end.
  auto approve = api_call("POST", server_->url("/v1/runs/" + waiting + "/approve"),
                          {bearer(alice_), k_json}, R"({"approve": true})");
  ASSERT_LT(approve.status, 300) << approve.body;
  EXPECT_TRUE(wait_status(waiting, "completed"));

  auto text = grok(data, {"prune", "--older-than", "30d"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("deleted 0 run(s)"), std::string::npos) << text.out;
}

TEST_F(ops_e2e, scheduled_backups_keep_only_the_newest) {
  start({{"GROK_BACKUP_INTERVAL_S", "1"}, {"GROK_BACKUP_KEEP", "2"}});
  const auto id = create_run(server_->url(), {{"input", "6*7+1?"}});
  ASSERT_TRUE(wait_status(id, "completed"));
  // Four backups and the rotations after them.
  ASSERT_TRUE(eventually([&] { return count_of(server_->log_text(), "backup: wrote") >= 4; }, 30s))
      << server_->log_text();
  ASSERT_TRUE(eventually([&] { return count_of(server_->log_text(), "backup: removed") >= 2; }))
      << server_->log_text();
  auto metrics = api_call("GET", server_->url("/metrics"), {bearer(admin_)});
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("grok_backups_total{outcome=\"ok\"}"), std::string::npos);
  EXPECT_NE(metrics.body.find("grok_backup_last_success_timestamp_seconds"), std::string::npos);
  EXPECT_NE(metrics.body.find("grok_pruned_runs_total"), std::string::npos);
  ASSERT_EQ(server_->stop(), 0);

  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(fs::path(server_->data_dir()) / "backups")) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 2U) << "keep = 2";
  for (const auto& name : names) {
    // grok-20261201T153000Z.db
    ASSERT_EQ(name.size(), 24U) << name;
    EXPECT_EQ(name.rfind("grok-", 0), 0U);
    EXPECT_EQ(name.substr(13, 1), "T");
    EXPECT_EQ(name.substr(20), "Z.db");
    auto v =
        grok(server_->data_dir(),
             {"backup", "verify", (fs::path(server_->data_dir()) / "backups" / name).string()});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  }
  EXPECT_LT(names[0], names[1]);
}

TEST_F(ops_e2e, bad_input_gets_clear_errors) {
  temp_dir dir;
  const auto data = dir.file("data");
  ASSERT_EQ(grok(data, {"migrate"}).exit_code, 0);
  for (const char* bad : {"", "10", "10x", "-5d", "5.5h", "d", "+3h", "1e3s", "30 d",
                          "99999999999999999999d", "36501d"}) {
    auto r = grok(data, {"prune", "--older-than", bad});
    EXPECT_EQ(r.exit_code, 2) << "'" << bad << "': " << r.err;
    EXPECT_NE(r.err.find("--older-than"), std::string::npos) << r.err;
  }
  EXPECT_EQ(grok(data, {"prune", "--older-than", "36500d"}).exit_code, 0);

  auto no_db = grok(dir.file("empty"), {"prune", "--older-than", "1d"});
  EXPECT_EQ(no_db.exit_code, 1);
  EXPECT_NE(no_db.err.find("no database"), std::string::npos) << no_db.err;

  auto pg = grok(data, {"--db", "postgres://u@127.0.0.1/grok", "backup", "--to", dir.file("x.db")});
  EXPECT_EQ(pg.exit_code, 1);
  EXPECT_NE(pg.err.find("pg_dump"), std::string::npos) << pg.err;
  auto pg_restore =
      grok(data, {"--db", "postgres://u@127.0.0.1/grok", "restore", "--from", dir.file("x.db")});
  EXPECT_EQ(pg_restore.exit_code, 1);
  EXPECT_NE(pg_restore.err.find("pg_dump"), std::string::npos) << pg_restore.err;

  std::ofstream(dir.file("junk.db"))
      << "this is not a database, just some text" << std::string(5000, '.');
  auto junk = grok(data, {"backup", "verify", dir.file("junk.db")});
  EXPECT_EQ(junk.exit_code, 1);
  EXPECT_NE(junk.err.find("is not a GROK database or is damaged"), std::string::npos) << junk.err;
  auto junk_json = grok(data, {"backup", "verify", "--json", dir.file("junk.db")});
  EXPECT_EQ(junk_json.exit_code, 1);
  EXPECT_EQ(json::parse(junk_json.out)["ok"], false);
  auto missing = grok(data, {"backup", "verify", dir.file("nope.db")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no such file"), std::string::npos) << missing.err;
  auto bad_restore = grok(data, {"restore", "--from", dir.file("junk.db"), "--force"});
  EXPECT_EQ(bad_restore.exit_code, 1);
  EXPECT_NE(bad_restore.err.find("is not a GROK database or is damaged"), std::string::npos)
      << bad_restore.err;
  EXPECT_EQ(grok(data, {"backup"}).exit_code, 2) << "--to is needed";
}

}  // namespace
}  // namespace grok
