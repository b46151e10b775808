// grok: the command-line entry point. Parses flags with CLI11, loads configuration and
// dispatches to a subcommand.
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

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
      "serve",
      "Start the server: opens and migrates the store, runs the workers and the HTTP API "
      "(REST, SSE, WebSocket); prints an admin key on first start");
  serve->add_option("--workers", workers, "Number of worker threads (default 4)")
      ->check(CLI::Range(0, 256));
  bool no_workers = false;
  serve->add_flag("--no-workers", no_workers,
                  "Run the HTTP API only, no workers (scale-out: `grok worker` processes on the "
                  "same PostgreSQL database run the jobs)");
  std::optional<std::string> listen;
  serve->add_option("--listen", listen,
                    "Address of the HTTP API, HOST:PORT (default 127.0.0.1:8080; port 0 picks "
                    "a free one)");

  auto* worker = app.add_subcommand(
      "worker",
      "Run workers only, no HTTP API: any number of these processes, on any hosts, share the "
      "jobs of one PostgreSQL database (--db postgres://…) with `grok serve --no-workers`");
  worker->add_option("--workers", workers, "Number of worker threads (default 4)")
      ->check(CLI::Range(1, 256));
  std::optional<std::string> metrics_listen;
  worker->add_option("--metrics-listen", metrics_listen,
                     "Serve GET /metrics, /healthz and /readyz on HOST:PORT (default: no HTTP)");

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

  auto* docs = app.add_subcommand(
      "docs", "Manage the local documents the doc_search tool searches (SQLite FTS5, BM25)");
  docs->require_subcommand(1);
  std::vector<std::string> doc_paths;
  auto* docs_ingest =
      docs->add_subcommand("ingest", "Index files and directories for the doc_search tool");
  docs_ingest->footer(
      "Reads .txt, .text, .md, .markdown, .html and .htm files; other files are skipped.\n"
      "Directories are walked recursively, passing over hidden entries (.git, .cache). A file\n"
      "ingested before is indexed again only if its content changed. Prints one line per\n"
      "file and a totals line; exits 1 if any path could not be read or stored.");
  docs_ingest->add_option("PATH", doc_paths, "Files or directories to ingest")->required();
  auto* docs_list = docs->add_subcommand("list", "List ingested documents with their chunk counts");
  docs_list->add_flag("--json", json, "Print JSON instead of a table");
  std::string doc_query;
  int doc_k = 5;
  auto* docs_search = docs->add_subcommand(
      "search", "Search the ingested documents as the doc_search tool does, best passage first");
  docs_search->add_option("QUERY", doc_query, "Words the passage should contain")->required();
  docs_search->add_option("-k,--top", doc_k, "Return at most this many passages (default 5)")
      ->check(CLI::Range(1, grok::store::k_max_document_hits));
  docs_search->add_flag("--json", json, "Print JSON (with each passage's whole text)");
  std::string doc_source;
  auto* docs_remove =
      docs->add_subcommand("remove", "Forget an ingested document and its passages");
  docs_remove
      ->add_option("SOURCE", doc_source, "The document's source (from `grok docs list`) or path")
      ->required();

  auto* keys = app.add_subcommand("keys", "Manage the API keys of the HTTP API");
  keys->require_subcommand(1);
  std::string key_scope;
  std::string key_name;
  auto* keys_create = keys->add_subcommand(
      "create", "Create an API key and print it once, alone on stdout (only its hash is kept)");
  keys_create->add_option("--scope", key_scope, "runs (its own runs) or admin (everything)")
      ->required()
      ->check(CLI::IsMember({"runs", "admin"}));
  keys_create->add_option("--name", key_name, "What the key is for, to recognise it later")
      ->required();
  auto* keys_list = keys->add_subcommand("list", "List API keys (never the keys themselves)");
  keys_list->add_flag("--json", json, "Print JSON instead of a table");
  std::string key_id;
  auto* keys_revoke =
      keys->add_subcommand("revoke", "Revoke an API key: it is refused from now on");
  keys_revoke->add_option("ID", key_id, "The key's id (key_..., from `grok keys list`)")
      ->required();

  grok::cli::run_task_options run_opts;
  std::optional<std::string> planner_model, solver_model, tools_list;
  std::optional<int> max_steps, max_replans;
  std::optional<std::int64_t> token_budget;
  std::optional<double> deadline_s, step_timeout_s, temperature;
  bool require_approval = false;
  auto* run = app.add_subcommand(
      "run", "Run a task here, on the local data directory, and show its progress live");
  run->add_option("TASK", run_opts.task, "What to do, in words")->required();
  run->add_flag("--json", run_opts.json, "Print every event as one JSON line (NDJSON)");
  run->add_option("--server", run_opts.server,
                  "Run the task on the GROK server at this URL (e.g. http://127.0.0.1:8080) "
                  "instead of locally; the API key comes from GROK_API_KEY");
  run->add_option("--planner-model", planner_model, "Model that writes the plan");
  run->add_option("--solver-model", solver_model, "Model that writes the answer");
  run->add_option("--tools", tools_list, "Comma-separated tools the plan may use (default all)");
  run->add_option("--max-steps", max_steps, "Most steps in a plan")->check(CLI::Range(1, 64));
  run->add_option("--max-replans", max_replans, "New plans after a failed step")
      ->check(CLI::Range(0, 10));
  run->add_option("--token-budget", token_budget, "Fail the run past this many tokens (0: none)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1'000'000'000}));
  run->add_option("--deadline", deadline_s, "Fail the run after this many seconds");
  run->add_option("--step-timeout", step_timeout_s, "Fail a step after this many seconds");
  run->add_option("--temperature", temperature, "Sampling temperature of the solver and llm tool");
  run->add_flag("--require-approval", require_approval, "Show the plan and ask before running it");
  run->add_flag("--yes,-y", run_opts.approve, "With --require-approval: approve without asking");

  grok::cli::replay_options replay_opts;
  auto* replay = app.add_subcommand(
      "replay",
      "Run a finished run again with its recorded model answers (no model server needed) "
      "and show where the new run diverges from the recording");
  replay->add_option("RUN_ID", replay_opts.run_id, "The recorded run (run_...)")->required();
  replay->add_flag("--json", replay_opts.json,
                   "Print the replay's events and then the comparison as JSON lines");

  auto* audit = app.add_subcommand("audit", "Check the audit log of run events");
  audit->require_subcommand(1);
  grok::cli::audit_verify_options audit_opts;
  auto* audit_verify = audit->add_subcommand(
      "verify",
      "Walk the audit log's hash chain across its files and report the first line that was "
      "edited, removed or reordered (set GROK_AUDIT_SECRET as the server had it)");
  audit_verify->add_option("--dir", audit_opts.dir,
                           "Audit directory (default: <data dir>/audit or audit.dir)");
  audit_verify->add_flag("--json", audit_opts.json, "Print the result as JSON");

  grok::cli::prune_options prune_opts;
  auto* prune = app.add_subcommand(
      "prune",
      "Delete runs that ended longer ago than the retention age, with their steps, events, "
      "model calls and artifacts (runs still going are never deleted)");
  prune->add_option("--older-than", prune_opts.older_than,
                    "Age cutoff such as 30d, 12h, 45m or 90s (default: retention.max_age_hours)");
  prune->add_flag("--dry-run", prune_opts.dry_run, "Count what would be deleted; delete nothing");
  prune->add_flag("--json", prune_opts.json, "Print the counts as JSON");

  std::string backup_to;
  auto* backup = app.add_subcommand(
      "backup", "Back up the SQLite database online (safe while the server runs), or verify one");
  backup->add_option("--to", backup_to, "File to write the backup to (must not exist)");
  std::string backup_path;
  auto* backup_verify = backup->add_subcommand(
      "verify", "Check a backup's integrity and print its row counts per table");
  backup_verify->add_option("PATH", backup_path, "The backup file")->required();
  backup_verify->add_flag("--json", json, "Print JSON instead of a table");

  grok::cli::restore_options restore_opts;
  auto* restore = app.add_subcommand(
      "restore",
      "Replace the database with a backup after verifying it (refused while a server has the "
      "database open)");
  restore->add_option("--from", restore_opts.from, "The backup file")->required();
  restore->add_flag("--force", restore_opts.force, "Replace an existing database");

  for (auto* sub : {serve, worker,       migrate,     queue,       stats,         dead,
                    retry, docs,         docs_ingest, docs_list,   docs_search,   docs_remove,
                    keys,  keys_create,  keys_list,   keys_revoke, run,           replay,
                    audit, audit_verify, prune,       backup,      backup_verify, restore})
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
  if (no_workers) {
    if (workers > 0) {
      std::cerr << "grok: error: --no-workers and --workers " << workers << " contradict\n";
      return grok::cli::k_exit_usage;
    }
    request.flags["workers"] = "0";
  }
  if (listen) request.flags["listen"] = *listen;

  auto loaded = grok::cli::load_config(request);
  if (!loaded) return grok::cli::report_error(loaded.error().message);
  const auto& cfg = *loaded;
  grok::cli::init_logging(cfg, serve->parsed() || worker->parsed());

  if (*serve) return grok::cli::run_serve(cfg);
  if (*worker) return grok::cli::run_worker(cfg, metrics_listen);
  if (*run) {
    auto& o = run_opts.options;
    o = nlohmann::json::object();
    if (planner_model) o["planner_model"] = *planner_model;
    if (solver_model) o["solver_model"] = *solver_model;
    if (tools_list) {
      o["tools"] = nlohmann::json::array();
      std::stringstream items(*tools_list);
      for (std::string item; std::getline(items, item, ',');) {
        if (!item.empty()) o["tools"].push_back(item);
      }
    }
    if (max_steps) o["max_steps"] = *max_steps;
    if (max_replans) o["max_replans"] = *max_replans;
    if (token_budget) o["token_budget"] = *token_budget;
    if (deadline_s) o["deadline_s"] = *deadline_s;
    if (step_timeout_s) o["step_timeout_s"] = *step_timeout_s;
    if (temperature) o["temperature"] = *temperature;
    if (require_approval) o["require_approval"] = true;
    return grok::cli::run_task(cfg, run_opts);
  }
  if (*replay) return grok::cli::run_replay(cfg, replay_opts);
  if (*keys_create) return grok::cli::run_keys_create(cfg, key_scope, key_name);
  if (*keys_list) return grok::cli::run_keys_list(cfg, json);
  if (*keys_revoke) return grok::cli::run_keys_revoke(cfg, key_id);
  if (*migrate) return grok::cli::run_migrate(cfg);
  if (*stats) return grok::cli::run_queue_stats(cfg, json);
  if (*dead) return grok::cli::run_queue_dead(cfg, limit, json);
  if (*retry) return grok::cli::run_queue_retry(cfg, job_id);
  if (*docs_ingest) return grok::cli::run_docs_ingest(cfg, doc_paths);
  if (*docs_list) return grok::cli::run_docs_list(cfg, json);
  if (*docs_search) return grok::cli::run_docs_search(cfg, doc_query, doc_k, json);
  if (*docs_remove) return grok::cli::run_docs_remove(cfg, doc_source);
  if (*audit_verify) return grok::cli::run_audit_verify(cfg, audit_opts);
  if (*prune) return grok::cli::run_prune(cfg, prune_opts);
  if (*backup_verify) return grok::cli::run_backup_verify(cfg, backup_path, json);
  if (*backup) {
    if (backup_to.empty()) {
      std::cerr << "grok: error: grok backup needs --to PATH (or: grok backup verify PATH)\n";
      return grok::cli::k_exit_usage;
    }
    return grok::cli::run_backup(cfg, backup_to);
  }
  if (*restore) return grok::cli::run_restore(cfg, restore_opts);
  return k_exit_ok;
}
