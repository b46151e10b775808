// The server's configuration as plain values, after grok.toml, GROK_* environment
// variables and command-line flags have been merged (see cli/config_loader.h).
// Secrets are held here but never logged: describe_config() masks them.
#pragma once

#include <chrono>
#include <string>

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

struct config {
  std::string data_dir = "./grok-data";
  std::string db;  // empty: sqlite://<data_dir>/grok.db
  std::string listen = "127.0.0.1:8080";
  std::string log_level = "info";
  int workers = 4;

  std::string llm_base_url = "http://127.0.0.1:11434/v1";
  std::string llm_api_key;  // secret
  std::string planner_model = "llama3.1:8b";
  std::string solver_model = "llama3.1:8b";

  std::string redis_url;
  std::string otlp_endpoint;
  std::string signing_secret;  // secret

  queue_config queue;

  // The database URL with the default applied.
  [[nodiscard]] std::string effective_db() const;
};

}  // namespace grok
