// The `grok` subcommands. Each returns the process exit code and prints errors to stderr
// as one line. Only this folder wires concrete components (store backend, worker pool)
// together.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/result.h"

namespace grok::store {
class store;
}

namespace grok::cli {

enum exit_code : int { k_exit_ok = 0, k_exit_error = 1, k_exit_usage = 2 };

// Opens the store, migrates, starts the workers and runs until SIGINT or SIGTERM, then
// drains and exits 0.
int run_serve(const config& c);
// `grok worker`: the workers alone, no HTTP API (scale-out on PostgreSQL). With
// `metrics_listen` ("HOST:PORT"), GET /metrics, /healthz and /readyz are served there.
int run_worker(const config& c, const std::optional<std::string>& metrics_listen);
int run_migrate(const config& c);
int run_queue_stats(const config& c, bool json);
int run_queue_dead(const config& c, int limit, bool json);
int run_queue_retry(const config& c, std::int64_t job_id);

// `grok docs ingest PATH...`: one line per file (outcome, path, chunks or why not) and a
// totals line on stdout; exit 1 when any path or file failed (skipped files do not count).
int run_docs_ingest(const config& c, const std::vector<std::string>& paths);
// `grok docs list`: every ingested document, by source.
int run_docs_list(const config& c, bool json);
// `grok docs search QUERY`: the k best passages, as doc_search finds them.
int run_docs_search(const config& c, const std::string& query, int k, bool json);
// `grok docs remove SOURCE`: forgets a document (SOURCE as listed, or its path).
int run_docs_remove(const config& c, const std::string& source);

struct run_task_options {
  std::string task;
  nlohmann::json options;             // run options, as in POST /v1/runs
  bool json = false;                  // print events as NDJSON
  bool approve = false;               // approve the plan without asking
  std::optional<std::string> server;  // --server URL: run it on that GROK server
};
// `grok run`: exit 0 when the run completed, 1 when it failed, 130 when interrupted.
int run_task(const config& c, const run_task_options& o);
// `grok run --server URL`: the same through a server's HTTP API (key from GROK_API_KEY).
int run_task_remote(const config& c, const run_task_options& o);

// `grok keys`: create prints the key alone on stdout (details on stderr).
int run_keys_create(const config& c, const std::string& scope, const std::string& name);
int run_keys_list(const config& c, bool json);
int run_keys_revoke(const config& c, const std::string& id);
// Stores a new key and returns it (details on stderr).
[[nodiscard]] result<std::string> insert_new_key(store::store& st, const std::string& scope,
                                                 const std::string& name);
// First start: when no key exists at all, creates an admin key and returns it (to be shown
// once); empty when keys exist.
[[nodiscard]] result<std::optional<std::string>> ensure_admin_key(store::store& st);

struct replay_options {
  std::string run_id;
  bool json = false;  // the replay's events and the comparison as NDJSON
};
// `grok replay RUN_ID`: exit 0 when the replay matches the recording, 1 when it diverges
// or cannot run.
int run_replay(const config& c, const replay_options& o);

// `grok audit verify`: walks the audit log's hash chain across its files; exit 0 when it
// is intact, 1 naming the first edited, removed or reordered line.
struct audit_verify_options {
  std::optional<std::string> dir;  // default: the configured audit directory
  bool json = false;
};
int run_audit_verify(const config& c, const audit_verify_options& o);

// `grok prune`: deletes runs that ended before the cutoff (with their steps, events, model
// calls and artifacts), in batches; never a run that is still going.
struct prune_options {
  std::optional<std::string> older_than;  // "30d", "12h", "45m", "90s"; default: retention
  bool dry_run = false;                   // count what would go, delete nothing
  bool json = false;
};
int run_prune(const config& c, const prune_options& o);
// `grok backup --to PATH`: an online backup of the SQLite database, safe while a server
// writes to it.
int run_backup(const config& c, const std::string& to);
// `grok backup verify PATH`: integrity check and row counts per table.
int run_backup_verify(const config& c, const std::string& path, bool json);
// `grok restore --from PATH`: replaces the database with a verified backup; refuses while
// a server (or any grok process) has the database open.
struct restore_options {
  std::string from;
  bool force = false;  // replace an existing database
};
int run_restore(const config& c, const restore_options& o);

// Sets up the process logger (stderr) at the configured level and format; `server` picks
// JSON lines when no format is configured.
void init_logging(const config& c, bool server = false);

// Prints "grok: error: <message>" to stderr; returns k_exit_error.
int report_error(const std::string& message);

}  // namespace grok::cli
