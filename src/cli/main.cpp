// grok: the command-line entry point. Parses flags with CLI11, loads configuration and
// dispatches to a subcommand.
#include <iostream>
#include <map>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/config_loader.h"
#include "core/version.h"
#include "store/sqlite/sqlite_store.h"

namespace {

using grok::cli::k_exit_ok;

// Options every subcommand accepts; they override grok.toml and GROK_* variables.
struct global_flags {
  std::optional<std::string> config_path;
  std::optional<std::string> data_dir;
  std::optional<std::string> db;
  std::optional<std::string> log_level;
};

void add_global_flags(CLI::App& app, global_flags& flags) {
  app.add_option("--config", flags.config_path,
                 "Path to grok.toml (default: $GROK_CONFIG, else ./grok.toml if present)");
  app.add_option("--data-dir", flags.data_dir,
                 "Data directory: database, audit logs, backups (default ./grok-data)");
  app.add_option(
      "--db", flags.db,
      "Database URL: sqlite://PATH or a file path (default sqlite://<data dir>/grok.db)");
  app.add_option("--log-level", flags.log_level,
                 "trace, debug, info, warn, error, critical or off");
}

}  // namespace

int main(int argc, char** argv) {
  grok::store::sqlite::configure_process_allocator();
  CLI::App app{
      "GROK: a small, fast, self-hosted agent server.\n"
      "Plans with one model, runs tools in parallel, answers with another; every run is\n"
      "durable and observable. See README.md for configuration.",
      "grok"};
  app.set_version_flag("--version,-V", std::string("grok ") + std::string(grok::k_version));
  app.require_subcommand(1);
  app.fallthrough();

  global_flags flags;
  add_global_flags(app, flags);

  int workers = -1;
  auto* serve = app.add_subcommand(
      "serve", "Start the server: opens and migrates the store, runs the workers");
  serve->add_option("--workers", workers, "Number of worker threads (default 4)")
      ->check(CLI::Range(0, 256));

  auto* migrate =
      app.add_subcommand("migrate", "Apply pending database schema migrations and exit");

  auto* queue = app.add_subcommand("queue", "Inspect and control the job queue");
  queue->require_subcommand(1);
  bool json = false;
  auto* stats = queue->add_subcommand(
      "stats", "Queue depth by topic and state, and the lag of the oldest visible job");
  stats->add_flag("--json", json, "Print JSON instead of a table");
  int limit = 100;
  auto* dead = queue->add_subcommand("dead", "List dead-lettered jobs with their last error");
  dead->add_flag("--json", json, "Print JSON instead of a table");
  dead->add_option("--limit", limit, "Show at most this many (default 100)")
      ->check(CLI::Range(1, 1000));
  std::int64_t job_id = 0;
  auto* retry = queue->add_subcommand("retry", "Requeue a dead job so workers try it again");
  retry->add_option("ID", job_id, "The dead job's id (from `grok queue dead`)")
      ->required()
      ->check(CLI::PositiveNumber);

  for (auto* sub : {serve, migrate, queue, stats, dead, retry})
    sub->set_help_flag("--help,-h", "Show this help and exit");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports --help and --version as "errors" with exit code 0.
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "grok: error: " << e.what() << "\n"
              << "Run 'grok --help' for usage.\n";
    return grok::cli::k_exit_usage;
  }

  grok::cli::config_request request;
  request.config_path = flags.config_path;
  if (flags.data_dir) request.flags["data_dir"] = *flags.data_dir;
  if (flags.db) request.flags["db"] = *flags.db;
  if (flags.log_level) request.flags["log_level"] = *flags.log_level;
  if (workers >= 0) request.flags["workers"] = std::to_string(workers);

  auto loaded = grok::cli::load_config(request);
  if (!loaded) return grok::cli::report_error(loaded.error().message);
  const auto& cfg = *loaded;
  grok::cli::init_logging(cfg);

  if (*serve) return grok::cli::run_serve(cfg);
  if (*migrate) return grok::cli::run_migrate(cfg);
  if (*stats) return grok::cli::run_queue_stats(cfg, json);
  if (*dead) return grok::cli::run_queue_dead(cfg, limit, json);
  if (*retry) return grok::cli::run_queue_retry(cfg, job_id);
  return k_exit_ok;
}
