#include "cli/config_loader.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests_support/temp_dir.h"

namespace grok::cli {
namespace {

using grok::testing::temp_dir;
using namespace std::chrono_literals;

env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string write(const temp_dir& dir, const std::string& name, const std::string& text) {
  auto path = dir.file(name);
  std::ofstream(path) << text;
  return path;
}

TEST(config_loader, defaults_follow_the_spec) {
  auto c = load_config({.config_path = std::nullopt, .flags = {}, .env = env_of({})});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->data_dir, "./grok-data");
  EXPECT_EQ(c->effective_db(), "sqlite://./grok-data/grok.db");
  EXPECT_EQ(c->listen, "127.0.0.1:8080");
  EXPECT_EQ(c->llm_base_url, "http://127.0.0.1:11434/v1");
  EXPECT_EQ(c->planner_model, "llama3.1:8b");
}

TEST(config_loader, file_then_environment_then_flags) {
  temp_dir dir;
  auto path = write(dir, "grok.toml",
                    "data_dir = \"/from/file\"\nworkers = 3\nlisten = \"0.0.0.0:9000\"\n"
                    "[queue]\nlease_ms = 5000\nmax_attempts = 7\n");
  auto c = load_config({.config_path = path,
                        .flags = {{"workers", "9"}},
                        .env = env_of({{"GROK_WORKERS", "5"}, {"GROK_LISTEN", "127.0.0.1:1234"}})});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->data_dir, "/from/file");
  EXPECT_EQ(c->listen, "127.0.0.1:1234");  // env beats file
  EXPECT_EQ(c->workers, 9);                // flag beats env
  EXPECT_EQ(c->queue.lease, 5000ms);
  EXPECT_EQ(c->queue.max_attempts, 7);
}

TEST(config_loader, http_limits_come_from_the_http_table_and_the_environment) {
  temp_dir dir;
  auto path = write(dir, "grok.toml",
                    "[http]\nmax_body_bytes = 2048\ncors_origins = [\"http://a.test\", "
                    "\"http://b.test\"]\nheader_timeout_ms = 500\n");
  auto c = load_config({.config_path = path,
                        .flags = {},
                        .env = env_of({{"GROK_HTTP_MAX_CONNECTIONS", "7"},
                                       {"GROK_REDIS_URL", "redis://:pw@127.0.0.1:1/0"}})});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->http.max_body_bytes, 2048U);
  EXPECT_EQ(c->http.header_timeout, 500ms);
  EXPECT_EQ(c->http.max_connections, 7);
  EXPECT_EQ(c->http.cors_origins, (std::vector<std::string>{"http://a.test", "http://b.test"}));
  // The Redis URL can carry a password: never printed.
  EXPECT_EQ(describe_config(*c).find("pw@"), std::string::npos);
  auto bad = load_config({.config_path = std::nullopt,
                          .flags = {},
                          .env = env_of({{"GROK_HTTP_MAX_BODY_BYTES", "12"}})});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("GROK_HTTP_MAX_BODY_BYTES"), std::string::npos);
}

TEST(config_loader, grok_config_names_the_file) {
  temp_dir dir;
  auto path = write(dir, "other.toml", "solver_model = \"qwen2.5:7b\"\n");
  auto c = load_config(
      {.config_path = std::nullopt, .flags = {}, .env = env_of({{"GROK_CONFIG", path}})});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->solver_model, "qwen2.5:7b");
  auto missing = load_config({.config_path = std::nullopt,
                              .flags = {},
                              .env = env_of({{"GROK_CONFIG", dir.file("nope.toml")}})});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nope.toml"), std::string::npos);
}

TEST(config_loader, errors_name_the_key_and_the_source) {
  temp_dir dir;
  struct bad_case {
    std::string toml;
    std::string expect;
  };
  for (const auto& [toml, expect] : std::vector<bad_case>{
           {"wrkers = 3\n", "wrkers: unknown setting"},
           {"workers = \"three\"\n", "workers: expected an integer"},
           {"workers = 3.5\n", "workers: expected an integer"},
           {"workers = 100000\n", "workers: 100000 is out of range"},
           {"data_dir = 7\n", "data_dir: expected a string"},
           {"log_level = \"loud\"\n", "log_level: 'loud' is not a log level"},
           {"[queue]\nlease_ms = 0\n", "queue.lease_ms: 0 is out of range"},
           {"[queue]\nspeed = 1\n", "queue.speed: unknown setting"},
           {"[network]\nport = 1\n", "network: unknown setting"},
           {"llm_api_key = \"sk-secret\"\n", "secrets are not read from the config file"},
           {"workers = \n", "line 1"},
           {"= broken", "line 1"},
           {"listen = \"nohost\"\n", "listen: 'nohost' is not HOST:PORT"},
           {"listen = \"127.0.0.1:99999\"\n", "no valid port"},
       }) {
    auto path = write(dir, "bad.toml", toml);
    auto c = load_config({.config_path = path, .flags = {}, .env = env_of({})});
    ASSERT_FALSE(c) << toml;
    EXPECT_EQ(c.error().code, errc::invalid_argument) << toml;
    EXPECT_NE(c.error().message.find(expect), std::string::npos)
        << toml << " -> " << c.error().message;
    // The secret itself never appears in the error.
    EXPECT_EQ(c.error().message.find("sk-secret"), std::string::npos);
  }
}

TEST(config_loader, bad_environment_values_name_the_variable) {
  auto c = load_config(
      {.config_path = std::nullopt, .flags = {}, .env = env_of({{"GROK_WORKERS", "many"}})});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("GROK_WORKERS"), std::string::npos);
  auto d = load_config(
      {.config_path = std::nullopt, .flags = {}, .env = env_of({{"GROK_QUEUE_LEASE_MS", "-5"}})});
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("GROK_QUEUE_LEASE_MS"), std::string::npos);
  auto e = load_config(
      {.config_path = std::nullopt, .flags = {}, .env = env_of({{"GROK_WORKERS", "3x"}})});
  ASSERT_FALSE(e);
}

TEST(config_loader, bad_flags_name_the_flag) {
  auto c = load_config(
      {.config_path = std::nullopt, .flags = {{"log_level", "shout"}}, .env = env_of({})});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("--log-level"), std::string::npos);
}

TEST(config_loader, secrets_come_from_the_environment_or_a_file_and_are_masked) {
  temp_dir dir;
  auto key_file = write(dir, "key", "sk-from-file\n");
  auto toml = write(dir, "grok.toml", "llm_api_key_file = \"" + key_file + "\"\n");
  auto c = load_config({.config_path = toml, .flags = {}, .env = env_of({})});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->llm_api_key, "sk-from-file");
  auto d = load_config(
      {.config_path = toml, .flags = {}, .env = env_of({{"GROK_LLM_API_KEY", "sk-env"}})});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->llm_api_key, "sk-env");
  auto text = describe_config(*d);
  EXPECT_EQ(text.find("sk-env"), std::string::npos);
  EXPECT_NE(text.find("llm_api_key=(set, hidden)"), std::string::npos);

  auto missing = load_config({.config_path = std::nullopt,
                              .flags = {},
                              .env = env_of({{"GROK_SIGNING_SECRET_FILE", dir.file("absent")}})});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("GROK_SIGNING_SECRET_FILE"), std::string::npos);
}

TEST(config_loader, oversized_config_file_is_refused) {
  temp_dir dir;
  auto path = write(dir, "big.toml", "# " + std::string(2 * 1024 * 1024, 'x') + "\n");
  auto c = load_config({.config_path = path, .flags = {}, .env = env_of({})});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("larger than 1 MiB"), std::string::npos);
}

TEST(config_loader, operations_tables_and_their_defaults) {
  auto d = load_config({.config_path = std::nullopt, .flags = {}, .env = env_of({})});
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->effective_audit_dir(), "./grok-data/audit");
  EXPECT_EQ(d->effective_backup_dir(), "./grok-data/backups");
  EXPECT_EQ(d->retention.max_age, std::chrono::hours(24 * 30));
  EXPECT_EQ(d->backup.interval, std::chrono::seconds(86'400));
  EXPECT_TRUE(d->log_format.empty());

  temp_dir dir;
  auto path = write(dir, "grok.toml",
                    "log_format = \"text\"\n"
                    "[tracing]\nservice_name = \"grok-eu\"\nflush_interval_ms = 250\n"
                    "[audit]\ndir = \"/var/audit\"\nmax_file_bytes = 4096\nkeep_files = 3\n"
                    "allow_fields = [\"tool\", \"error.code\"]\n"
                    "[retention]\nmax_age_hours = 48\ninterval_s = 60\nbatch_size = 10\n"
                    "[backup]\ndir = \"/var/backups/grok\"\ninterval_s = 0\nkeep = 2\n");
  auto c = load_config(
      {.config_path = path, .flags = {}, .env = env_of({{"GROK_AUDIT_KEEP_FILES", "5"}})});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->log_format, "text");
  EXPECT_EQ(c->tracing.service_name, "grok-eu");
  EXPECT_EQ(c->tracing.flush_interval, 250ms);
  EXPECT_EQ(c->effective_audit_dir(), "/var/audit");
  EXPECT_EQ(c->audit.max_file_bytes, 4096);
  EXPECT_EQ(c->audit.keep_files, 5);  // env beats file
  EXPECT_EQ(c->audit.allow_fields, (std::vector<std::string>{"tool", "error.code"}));
  EXPECT_EQ(c->retention.max_age, std::chrono::hours(48));
  EXPECT_EQ(c->retention.interval, std::chrono::seconds(60));
  EXPECT_EQ(c->retention.batch_size, 10);
  EXPECT_EQ(c->effective_backup_dir(), "/var/backups/grok");
  EXPECT_EQ(c->backup.interval, std::chrono::seconds(0));
  EXPECT_EQ(c->backup.keep, 2);
}

TEST(config_loader, operations_settings_are_checked) {
  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases = {
      {{{"GROK_LOG_FORMAT", "xml"}}, "log_format"},
      {{{"GROK_AUDIT_MAX_FILE_BYTES", "10"}}, "GROK_AUDIT_MAX_FILE_BYTES"},
      {{{"GROK_AUDIT_KEEP_FILES", "0"}}, "GROK_AUDIT_KEEP_FILES"},
      {{{"GROK_BACKUP_KEEP", "-1"}}, "GROK_BACKUP_KEEP"},
      {{{"GROK_RETENTION_MAX_AGE_HOURS", "soon"}}, "GROK_RETENTION_MAX_AGE_HOURS"},
      {{{"GROK_TRACING_MAX_QUEUE_SPANS", "1"}}, "GROK_TRACING_MAX_QUEUE_SPANS"},
  };
  for (const auto& [vars, named] : cases) {
    auto c = load_config({.config_path = std::nullopt, .flags = {}, .env = env_of(vars)});
    ASSERT_FALSE(c) << named;
    EXPECT_NE(c.error().message.find(named), std::string::npos) << c.error().message;
  }
}

TEST(config_loader, audit_secret_never_comes_from_the_file_and_is_masked) {
  temp_dir dir;
  auto toml = write(dir, "grok.toml", "[audit]\nsecret = \"chain-key\"\n");
  auto refused = load_config({.config_path = toml, .flags = {}, .env = env_of({})});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("GROK_AUDIT_SECRET"), std::string::npos);
  EXPECT_EQ(refused.error().message.find("chain-key"), std::string::npos);

  auto c = load_config({.config_path = std::nullopt,
                        .flags = {},
                        .env = env_of({{"GROK_AUDIT_SECRET", "chain-key"}})});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->audit.secret, "chain-key");
  auto text = describe_config(*c);
  EXPECT_EQ(text.find("chain-key"), std::string::npos);
  EXPECT_NE(text.find("audit_secret=(set, hidden)"), std::string::npos);
}

TEST(config_loader, standard_opentelemetry_variables_are_honoured) {
  auto c = load_config({.config_path = std::nullopt,
                        .flags = {},
                        .env = env_of({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"},
                                       {"OTEL_SERVICE_NAME", "agents"}})});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->otlp_endpoint, "http://127.0.0.1:4318");
  EXPECT_EQ(c->tracing.service_name, "agents");
  EXPECT_EQ(describe_config(*c).find("4318"), std::string::npos);

  // GROK's own variables win over the standard ones.
  auto g = load_config({.config_path = std::nullopt,
                        .flags = {},
                        .env = env_of({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"},
                                       {"GROK_OTLP_ENDPOINT", "http://127.0.0.1:9999"},
                                       {"OTEL_SERVICE_NAME", "agents"},
                                       {"GROK_TRACING_SERVICE_NAME", "mine"}})});
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(g->otlp_endpoint, "http://127.0.0.1:9999");
  EXPECT_EQ(g->tracing.service_name, "mine");

  auto t = load_config(
      {.config_path = std::nullopt,
       .flags = {},
       .env = env_of({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:4318/v1/traces"},
                      {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1"}})});
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->otlp_endpoint, "http://127.0.0.1:4318/v1/traces");
}

TEST(config_loader, ui_table_and_environment) {
  auto d = load_config({.config_path = std::nullopt, .flags = {}, .env = env_of({})});
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(d->ui.enabled);
  EXPECT_EQ(d->ui.dir, "");  // the UI built into the binary
  EXPECT_NE(describe_config(*d).find(" ui=embedded"), std::string::npos);

  temp_dir dir;
  auto path = write(dir, "grok.toml", "[ui]\nenabled = true\ndir = \"/srv/grok/dist\"\n");
  auto c = load_config({.config_path = path, .flags = {}, .env = env_of({})});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->ui.enabled);
  EXPECT_EQ(c->ui.dir, "/srv/grok/dist");
  EXPECT_NE(describe_config(*c).find(" ui=/srv/grok/dist"), std::string::npos);

  // The environment beats the file; an empty GROK_UI_DIR means the embedded UI again.
  auto e = load_config(
      {.config_path = path, .flags = {}, .env = env_of({{"GROK_UI_DIR", ""}, {"GROK_UI", "off"}})});
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_FALSE(e->ui.enabled);
  EXPECT_EQ(e->ui.dir, "");
  EXPECT_NE(describe_config(*e).find(" ui=off"), std::string::npos);

  for (const char* on : {"on", "true", "1", "yes"}) {
    auto v =
        load_config({.config_path = std::nullopt, .flags = {}, .env = env_of({{"GROK_UI", on}})});
    ASSERT_TRUE(v) << on;
    EXPECT_TRUE(v->ui.enabled) << on;
  }
  for (const char* off : {"off", "false", "0", "no"}) {
    auto v =
        load_config({.config_path = std::nullopt, .flags = {}, .env = env_of({{"GROK_UI", off}})});
    ASSERT_TRUE(v) << off;
    EXPECT_FALSE(v->ui.enabled) << off;
  }
  auto off = write(dir, "off.toml", "[ui]\nenabled = false\n");
  auto f = load_config({.config_path = off, .flags = {}, .env = env_of({})});
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_FALSE(f->ui.enabled);
}

TEST(config_loader, ui_settings_are_checked) {
  auto bad_env = load_config(
      {.config_path = std::nullopt, .flags = {}, .env = env_of({{"GROK_UI", "maybe"}})});
  ASSERT_FALSE(bad_env);
  EXPECT_NE(bad_env.error().message.find("GROK_UI: ui.enabled: 'maybe'"), std::string::npos)
      << bad_env.error().message;

  temp_dir dir;
  for (const auto& [text, named] : std::vector<std::pair<std::string, std::string>>{
           {"[ui]\nenabled = \"off\"\n", "ui.enabled: expected true or false"},
           {"[ui]\ndir = 3\n", "ui.dir: expected a string"},
           {"[ui]\ncolour = \"red\"\n", "ui.colour: unknown setting"}}) {
    auto path = write(dir, "grok.toml", text);
    auto c = load_config({.config_path = path, .flags = {}, .env = env_of({})});
    ASSERT_FALSE(c) << text;
    EXPECT_NE(c.error().message.find(named), std::string::npos) << c.error().message;
  }
}

}  // namespace
}  // namespace grok::cli
