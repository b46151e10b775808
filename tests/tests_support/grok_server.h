// A real `grok serve` process for black-box tests: its own data directory, a free
// loopback port, keys created with `grok keys create` before it starts, stopped with
// SIGTERM (then SIGKILL) when destroyed.
//
// Scale-out: with GROK_DB=postgres://… in `env`, several of these (and `grok worker`
// processes, tests_support/grok_worker.h) share one database, each with its own data
// directory (the audit log locks its directory). Keys then live in that database: create
// them once, through any one of them, and every process accepts them.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests_support/process.h"
#include "tests_support/temp_dir.h"

namespace grok::testing {

class grok_server {
 public:
  // `data_dir` empty: a fresh one inside this object's temp dir. `env` adds GROK_*
  // variables (model server, limits, signing secret, Redis).
  explicit grok_server(std::map<std::string, std::string> env = {}, std::string data_dir = {});
  ~grok_server();
  grok_server(const grok_server&) = delete;
  grok_server& operator=(const grok_server&) = delete;

  // Creates a key with `grok keys create` (works before or after start()).
  std::string create_key(const std::string& scope, const std::string& name);
  // Starts the server and waits until it listens. Throws when it does not start.
  void start(int workers = 2);
  // Starts `grok serve --no-workers`: the HTTP API alone; its runs are executed by
  // `grok worker` processes on the same database. Waits until it listens.
  void start_api_only();
  // SIGTERM and wait for the exit code (nullopt on timeout).
  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(20));

  [[nodiscard]] std::string url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] const std::string& data_dir() const { return data_dir_; }
  [[nodiscard]] child_process& process() { return *process_; }
  // The first-start admin key printed on stdout (empty when keys existed).
  [[nodiscard]] const std::string& first_admin_key() const { return first_key_; }
  // Everything the server logged so far (its stderr).
  [[nodiscard]] std::string log_text() const;

 private:
  void launch(const std::vector<std::string>& serve_args);

  temp_dir dir_;
  std::map<std::string, std::string> env_;
  std::string data_dir_;
  std::unique_ptr<child_process> process_;
  int port_ = 0;
  std::string first_key_;
  std::string log_path_;
  int starts_ = 0;
};

}  // namespace grok::testing
