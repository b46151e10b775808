// The server's configuration as plain values, after grok.toml, GROK_* environment
// variables and command-line flags have been merged (see cli/config_loader.h).
// Secrets are held here but never logged: describe_config() masks them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace grok {

struct queue_config {
  std::chrono::milliseconds lease{30'000};        // how long a claimed job stays invisible
  int max_attempts = 5;                           // default for enqueued jobs
  std::chrono::milliseconds backoff_base{500};    // first retry delay before jitter
  std::chrono::milliseconds backoff_cap{60'000};  // longest retry delay
  // Longest a sleeping worker waits before looking at the queue again. In-process
  // enqueues wake workers at once; this only bounds how late a job enqueued by another
  // process (e.g. `grok queue retry`) is noticed.
  std::chrono::milliseconds idle_recheck{2'000};
};

// Per-role model settings from grok.toml's [models.<role>] tables; unset fields fall back
// to the top-level llm_base_url / planner_model / solver_model / llm_api_key.
struct model_role_config {
  std::optional<std::string> base_url;
  std::optional<std::string> model;
  std::string provider = "openai";  // openai | ollama | vllm | llamacpp | lmstudio
  // Name of the environment variable holding this role's API key (never the key itself).
  std::optional<std::string> api_key_env;
  std::optional<double> temperature;
  std::optional<int> max_tokens;
};

struct llm_config {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds first_byte_timeout{120'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds total_timeout{600'000};
  int max_attempts = 4;
  // Roles: planner, solver, llm (the `llm` tool).
  std::map<std::string, model_role_config, std::less<>> models;
};

// Defaults for every run; a run's options may lower or change them (SPEC §3 run options).
struct engine_config {
  int max_steps = 8;                               // steps in one plan
  int max_replans = 1;                             // new plans after a failed step
  std::int64_t token_budget = 0;                   // tokens per run; 0: no limit
  std::chrono::milliseconds step_timeout{60'000};  // one tool call
  std::chrono::milliseconds deadline{600'000};     // a whole run, from its creation
  std::string prompts_dir;                         // empty: the templates built into the binary
};

// Price of a model's tokens, for the cost shown beside token counts ([prices."MODEL"]).
struct model_price {
  double input_per_mtok = 0;   // per million prompt tokens
  double output_per_mtok = 0;  // per million completion tokens
};

// Limits of the built-in tools.
struct tools_config {
  // Hosts, IP addresses, CIDR ranges or HOST:PORT entries http_get and web_page may reach
  // even though they are loopback, private, link-local or otherwise refused.
  std::vector<std::string> http_allow;
  std::int64_t http_max_bytes = 2 * 1024 * 1024;
  std::chrono::milliseconds http_timeout{15'000};
  int http_max_redirects = 5;
  std::int64_t output_max_bytes = 32 * 1024;  // a tool's output beyond this is cut
};

// The HTTP API's transport limits and policies ([http] in grok.toml).
struct http_config {
  std::size_t max_body_bytes = 1024 * 1024;          // larger bodies: 413
  std::size_t max_header_bytes = 16 * 1024;          // larger request heads: 431
  std::chrono::milliseconds header_timeout{10'000};  // to receive a whole request head
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive connection with no request
  int max_connections = 1024;                        // beyond: 503 and close
  int io_threads = 0;                                // 0: one per core, at least 2
  std::chrono::milliseconds heartbeat{15'000};       // SSE comment / WebSocket ping when idle
  std::chrono::milliseconds drain_timeout{10'000};   // SIGTERM: wait this long for requests
  std::size_t stream_buffer_bytes = 1024 * 1024;     // per stream; a slower client is dropped
  std::size_t ws_max_message_bytes = 64 * 1024;      // largest message a client may send
  std::vector<std::string> cors_origins;             // allowed Origin values; "*" for any
  double rate_per_second = 20;                       // per API key (token bucket)
  double rate_burst = 40;
};

// OpenTelemetry traces ([tracing]); exported when otlp_endpoint is set.
struct tracing_config {
  std::string service_name = "grok";                // service.name; OTEL_SERVICE_NAME too
  std::size_t max_queue_spans = 4096;               // finished spans waiting; more are dropped
  std::size_t max_batch_spans = 512;                // spans in one export request
  std::chrono::milliseconds flush_interval{2'000};  // longest a finished span waits
  std::chrono::milliseconds export_timeout{5'000};  // one export request, connect included
};

// The audit log ([audit]): every run event as one JSON line under `dir`.
struct audit_config {
  std::string dir;                                   // empty: <data_dir>/audit
  std::int64_t max_file_bytes = 64LL * 1024 * 1024;  // a file past this is rotated
  int keep_files = 30;                               // older rotated files are deleted
  // Event fields written as they are ("tool", "error.code", "metrics"); every other field
  // of an event's body is redacted. Empty: obs/audit_log.h's default list.
  std::vector<std::string> allow_fields;
  std::string secret;  // secret: keys the hash chain (HMAC-SHA256) when set
};

// Retention ([retention]): what `grok prune` and the schedule in `grok serve` delete.
struct retention_config {
  std::chrono::hours max_age{24 * 30};  // runs that ended longer ago are pruned; 0: never
  std::chrono::seconds interval{3600};  // how often `grok serve` prunes; 0: never
  int batch_size = 100;                 // runs deleted per transaction
};

// Backups ([backup]): scheduled online backups taken by `grok serve`.
struct backup_config {
  std::string dir;                        // empty: <data_dir>/backups
  std::chrono::seconds interval{86'400};  // 0: no scheduled backups
  int keep = 7;                           // scheduled backups kept; older ones are deleted
};

// The web UI ([ui]): `grok serve` serves it at every path that is not the API's.
struct ui_config {
  bool enabled = true;  // false: no UI route (GROK_UI=off)
  std::string dir;      // a built web/dist read at start; empty: the UI built into the binary
};

// Looks up an environment variable; empty optional when unset.
using env_lookup = std::function<std::optional<std::string>(std::string_view)>;

struct config {
  std::string data_dir = "./grok-data";
  std::string db;  // empty: sqlite://<data_dir>/grok.db
  std::string listen = "127.0.0.1:8080";
  std::string log_level = "info";
  // json | text; empty: JSON lines for `grok serve`, text for the other commands.
  std::string log_format;
  int workers = 4;

  std::string llm_base_url = "http://127.0.0.1:11434/v1";
  std::string llm_api_key;  // secret
  std::string planner_model = "llama3.1:8b";
  std::string solver_model = "llama3.1:8b";

  std::string redis_url;
  std::string otlp_endpoint;
  std::string signing_secret;  // secret

  queue_config queue;
  llm_config llm;
  engine_config engine;
  tools_config tools;
  http_config http;
  tracing_config tracing;
  audit_config audit;
  retention_config retention;
  backup_config backup;
  ui_config ui;
  std::map<std::string, model_price, std::less<>> prices;

  // The database URL with the default applied.
  [[nodiscard]] std::string effective_db() const;
  // The audit and backup directories with their defaults applied.
  [[nodiscard]] std::string effective_audit_dir() const;
  [[nodiscard]] std::string effective_backup_dir() const;
};

}  // namespace grok
