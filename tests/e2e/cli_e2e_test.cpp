// Black-box tests of the grok binary: exit codes, stderr lines, and a full serve lifecycle.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "store/open_store.h"
#include "tests_support/process.h"
#include "tests_support/temp_dir.h"

namespace grok {
namespace {

using namespace std::chrono_literals;
using testing::program_path;
using testing::run_program;
using testing::temp_dir;

class cli_e2e : public ::testing::Test {
 protected:
  testing::run_output grok(std::vector<std::string> args,
                           std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), program_path("grok"));
    return run_program(args, env, dir_.path().string());
  }
  temp_dir dir_;
};

TEST_F(cli_e2e, version_and_help_everywhere) {
  auto v = grok({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("grok 0."), std::string::npos);
  for (auto args : std::vector<std::vector<std::string>>{{"--help"},
                                                         {"serve", "--help"},
                                                         {"migrate", "--help"},
                                                         {"queue", "--help"},
                                                         {"queue", "stats", "--help"},
                                                         {"queue", "dead", "--help"},
                                                         {"queue", "retry", "--help"},
                                                         {"docs", "--help"},
                                                         {"docs", "ingest", "--help"},
                                                         {"docs", "list", "--help"},
                                                         {"docs", "search", "--help"},
                                                         {"docs", "remove", "--help"},
                                                         {"keys", "--help"},
                                                         {"keys", "create", "--help"},
                                                         {"keys", "list", "--help"},
                                                         {"keys", "revoke", "--help"},
                                                         {"run", "--help"},
                                                         {"replay", "--help"}}) {
    auto r = grok(args);
    EXPECT_EQ(r.exit_code, 0) << args.back();
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << args[0];
  }
}

TEST_F(cli_e2e, usage_errors_are_one_clear_line_and_exit_2) {
  for (auto args :
       std::vector<std::vector<std::string>>{{},
                                             {"fly"},
                                             {"queue"},
                                             {"queue", "retry"},
                                             {"queue", "retry", "abc"},
                                             {"queue", "retry", "-3"},
                                             {"serve", "--workers", "1000"},
                                             {"docs"},
                                             {"docs", "ingest"},
                                             {"docs", "search"},
                                             {"docs", "search", "x", "-k", "0"},
                                             {"keys"},
                                             {"keys", "create", "--name", "x"},
                                             {"keys", "create", "--scope", "root", "--name", "x"},
                                             {"keys", "revoke"}}) {
    auto r = grok(args);
    EXPECT_EQ(r.exit_code, 2) << (args.empty() ? "" : args[0]) << r.err;
    EXPECT_NE(r.err.find("grok: error:"), std::string::npos) << r.err;
  }
}

TEST_F(cli_e2e, queue_commands_on_a_missing_database_say_what_to_do) {
  auto r = grok({"queue", "stats"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("grok migrate"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("grok-data/grok.db")));
}

TEST_F(cli_e2e, corrupt_database_is_reported_not_crashed_on) {
  std::ofstream(dir_.file("bad.db")) << std::string(5000, 'x');
  auto r = grok({"--db", dir_.file("bad.db"), "queue", "stats"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is not a GROK database or is damaged"), std::string::npos) << r.err;
  auto s = grok({"--db", dir_.file("bad.db"), "migrate"});
  EXPECT_EQ(s.exit_code, 1);
}

TEST_F(cli_e2e, bad_configuration_names_the_key) {
  std::ofstream(dir_.file("grok.toml")) << "workers = -1\n";
  auto r = grok({"migrate"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("grok.toml line 1: workers"), std::string::npos) << r.err;
  std::filesystem::remove(dir_.file("grok.toml"));
  auto e = grok({"migrate"}, {{"GROK_LOG_LEVEL", "chatty"}});
  EXPECT_EQ(e.exit_code, 1);
  EXPECT_NE(e.err.find("GROK_LOG_LEVEL"), std::string::npos) << e.err;
}

TEST_F(cli_e2e, migrate_then_inspect_and_retry_dead_jobs) {
  auto m = grok({"migrate"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  ASSERT_TRUE(std::filesystem::exists(dir_.file("grok-data/grok.db")));
  EXPECT_EQ(grok({"migrate"}).exit_code, 0);

  store::job_id dead_id = 0;
  {
    auto st = store::open_store({.url = dir_.file("grok-data/grok.db")});
    ASSERT_TRUE(st);
    ASSERT_TRUE((*st)->enqueue({.topic = "plan", .payload = "{}"}));
    auto id = (*st)->enqueue({.topic = "tool", .payload = "{}", .max_attempts = 1});
    ASSERT_TRUE(id);
    dead_id = id->id;
    auto jobs = (*st)->claim({{"tool"}, "w", 1000ms, 1});
    ASSERT_TRUE(jobs && jobs->size() == 1);
    ASSERT_TRUE((*st)->nack({(*jobs)[0].held_lease(), "tool exploded\nwith two lines", 0ms}));
  }

  auto stats = grok({"queue", "stats"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_NE(stats.out.find("plan"), std::string::npos);
  EXPECT_NE(stats.out.find("dead"), std::string::npos);
  auto json = grok({"queue", "stats", "--json"});
  EXPECT_NE(json.out.find(R"({"count":1,"state":"dead","topic":"tool"})"), std::string::npos)
      << json.out;

  auto dead = grok({"queue", "dead"});
  ASSERT_EQ(dead.exit_code, 0);
  EXPECT_NE(dead.out.find("tool exploded with two lines"), std::string::npos) << dead.out;

  auto retry = grok({"queue", "retry", std::to_string(dead_id)});
  EXPECT_EQ(retry.exit_code, 0) << retry.err;
  auto again = grok({"queue", "retry", std::to_string(dead_id)});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("not dead"), std::string::npos) << again.err;
  auto missing = grok({"queue", "retry", "999999"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no job 999999"), std::string::npos);
  EXPECT_NE(grok({"queue", "dead"}).out.find("no dead jobs"), std::string::npos);
}

TEST_F(cli_e2e, docs_ingest_then_search_list_and_remove) {
  std::filesystem::create_directories(dir_.file("corpus/sub"));
  std::ofstream(dir_.file("corpus/kafka.md"))
      << "# Kafka\n\nConsumers in a consumer group share the partitions of a topic.\n";
  std::ofstream(dir_.file("corpus/sub/bread.html"))
      << "<title>Bread</title><script>zanzibar()</script><p>Knead the sourdough.</p>";
  std::ofstream(dir_.file("corpus/photo.png")) << "not text";

  auto ingest = grok({"docs", "ingest", "corpus"});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.out << ingest.err;
  EXPECT_NE(ingest.out.find("added      corpus/kafka.md  (1 chunk)"), std::string::npos)
      << ingest.out;
  EXPECT_NE(ingest.out.find("skipped    corpus/photo.png"), std::string::npos) << ingest.out;
  EXPECT_NE(ingest.out.find("2 added, 0 replaced, 0 unchanged, 1 skipped, 0 failed"),
            std::string::npos)
      << ingest.out;
  auto again = grok({"docs", "ingest", "corpus/kafka.md"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("unchanged  corpus/kafka.md"), std::string::npos) << again.out;

  const auto kafka = std::filesystem::canonical(dir_.file("corpus/kafka.md")).string();
  auto search = grok({"docs", "search", "consumer group partitions"});
  ASSERT_EQ(search.exit_code, 0) << search.err;
  EXPECT_TRUE(search.out.starts_with("[1] " + kafka + " — Kafka  (passage 1, score "))
      << search.out;
  auto json = grok({"docs", "search", "sourdough", "-k", "1", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find(R"("source":")" +
                          std::filesystem::canonical(dir_.file("corpus/sub/bread.html")).string()),
            std::string::npos)
      << json.out;
  EXPECT_NE(grok({"docs", "search", "zanzibar"}).out.find("no documents match"), std::string::npos);
  auto hostile = grok({"docs", "search", "AND OR NEAR( \"* col:"});
  EXPECT_EQ(hostile.exit_code, 0) << hostile.err;

  auto list = grok({"docs", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(kafka), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("2 documents, 2 chunks"), std::string::npos) << list.out;

  auto removed = grok({"docs", "remove", "corpus/kafka.md"});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_NE(grok({"docs", "search", "consumer"}).out.find("no documents match"), std::string::npos);
  auto gone = grok({"docs", "remove", kafka});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.err.find("grok: error: no document with source"), std::string::npos) << gone.err;
}

TEST_F(cli_e2e, docs_ingest_of_a_missing_path_exits_1) {
  std::ofstream(dir_.file("notes.txt")) << "Some notes on lighthouses.";
  auto r = grok({"docs", "ingest", "missing-dir", "notes.txt"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("failed     missing-dir"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("added      notes.txt"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("grok: error: 1 path not ingested; first: missing-dir: "), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
}

TEST_F(cli_e2e, docs_search_before_any_ingest_says_what_to_do) {
  auto r = grok({"docs", "search", "anything"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("grok docs ingest"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("grok-data/grok.db")));
  ASSERT_EQ(grok({"migrate"}).exit_code, 0);
  auto empty = grok({"docs", "search", "anything"});
  EXPECT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_NE(empty.out.find("grok docs ingest"), std::string::npos) << empty.out;
  EXPECT_NE(grok({"docs", "list"}).out.find("no documents"), std::string::npos);
  EXPECT_EQ(grok({"docs", "list", "--json"}).out, "[]\n");
}

TEST_F(cli_e2e, serve_starts_and_stops_cleanly_on_sigterm_and_sigint) {
  for (int sig : {SIGTERM, SIGINT}) {
    testing::child_process serve({program_path("grok"), "serve", "--workers", "3"}, {},
                                 dir_.path().string());
    ASSERT_TRUE(serve.wait_for_stderr_line("ready:", 30s)) << serve.stderr_text();
    serve.send_signal(sig);
    auto code = serve.wait(30s);
    ASSERT_TRUE(code.has_value()) << "serve did not stop";
    EXPECT_EQ(*code, 0) << serve.stderr_text();
  }
  auto stats = grok({"queue", "stats"});
  EXPECT_EQ(stats.exit_code, 0) << stats.err;
}

TEST_F(cli_e2e, serve_refuses_a_database_from_a_newer_grok) {
  ASSERT_EQ(grok({"migrate"}).exit_code, 0);
  {
    auto r = run_program(
        {"/usr/bin/sqlite3", dir_.file("grok-data/grok.db"), "PRAGMA user_version = 42;"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  auto r = grok({"serve"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("newer than this grok binary"), std::string::npos) << r.err;
}

TEST_F(cli_e2e, keys_are_printed_once_and_listed_without_the_secret) {
  auto created = grok({"keys", "create", "--scope", "admin", "--name", "ops laptop"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  // The key alone on stdout; what it is on stderr.
  ASSERT_EQ(created.out.size(), 5U + 64U + 1U) << created.out;
  const auto key = created.out.substr(0, created.out.size() - 1);
  EXPECT_TRUE(key.starts_with("grok_")) << key;
  EXPECT_NE(created.err.find("shown this once"), std::string::npos) << created.err;
  EXPECT_EQ(created.err.find(key), std::string::npos);  // never echoed in full

  auto listed = grok({"keys", "list", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.out.find(key), std::string::npos);  // the list never shows a key
  auto doc = nlohmann::json::parse(listed.out);
  ASSERT_EQ(doc.size(), 1U);
  EXPECT_EQ(doc[0]["scope"], "admin");
  EXPECT_EQ(doc[0]["name"], "ops laptop");
  EXPECT_EQ(doc[0]["prefix"], key.substr(0, 12));
  EXPECT_TRUE(doc[0]["revoked_at"].is_null());
  // Only the hash is in the database.
  auto st = store::open_store({.url = dir_.file("grok-data/grok.db")});
  ASSERT_TRUE(st);
  auto keys = (*st)->list_api_keys();
  ASSERT_TRUE(keys);
  EXPECT_NE((*keys)[0].hash, key);
  EXPECT_EQ((*st)->find_api_key((*keys)[0].hash).value()->id, doc[0]["id"]);

  const std::string id = doc[0]["id"];
  auto revoked = grok({"keys", "revoke", id});
  EXPECT_EQ(revoked.exit_code, 0) << revoked.err;
  auto table = grok({"keys", "list"});
  EXPECT_NE(table.out.find(id), std::string::npos);
  EXPECT_EQ(table.out.find(key), std::string::npos);
  auto again = grok({"keys", "list", "--json"});
  EXPECT_FALSE(nlohmann::json::parse(again.out)[0]["revoked_at"].is_null());

  auto unknown = grok({"keys", "revoke", "key_missing"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no API key key_missing"), std::string::npos) << unknown.err;
}

}  // namespace
}  // namespace grok
