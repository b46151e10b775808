// The server's configuration as plain values, after grok.toml, GROK_* environment
// variables and command-line flags have been merged (see cli/config_loader.h).
// Secrets are held here but never logged: describe_config() masks them.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

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

// Looks up an environment variable; empty optional when unset.
using env_lookup = std::function<std::optional<std::string>(std::string_view)>;

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
  llm_config llm;

  // The database URL with the default applied.
  [[nodiscard]] std::string effective_db() const;
};

}  // namespace grok
