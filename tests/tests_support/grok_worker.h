// A real `grok worker` process for scale-out tests: worker threads only, no HTTP API, on
// the database GROK_DB names in `env` (PostgreSQL, shared with `grok serve --no-workers`
// processes, tests_support/grok_server.h). Its own data directory and log file; stopped
// with SIGTERM (then SIGKILL) when destroyed, or SIGKILLed on purpose with kill().
//
// Thread-safety: none; use from the test's own thread (the child is tied to the thread
// that started it, see child_process).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "tests_support/process.h"
#include "tests_support/temp_dir.h"

namespace grok::testing {

class grok_worker {
 public:
  // `env` adds GROK_* variables (GROK_DB, the model server, queue settings); `workers` is
  // passed as --workers.
  explicit grok_worker(std::map<std::string, std::string> env, int workers = 2);
  ~grok_worker();
  grok_worker(const grok_worker&) = delete;
  grok_worker& operator=(const grok_worker&) = delete;

  // Starts it and waits for its "ready:" line. Throws std::runtime_error with its log when
  // it exits or is not ready within 30 s.
  void start();
  // SIGTERM (it finishes or gives back the jobs in hand) and waits for the exit code;
  // nullopt on timeout (then it is SIGKILLed).
  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // SIGKILL, as a crash: its leased jobs come back when their leases run out. Returns the
  // signal that ended it (9), or 0 when it had already exited.
  int kill();

  [[nodiscard]] bool running() const { return process_ != nullptr; }
  // The process id while it runs (worker ids in the queue's locked_by hold it), else -1.
  [[nodiscard]] pid_t pid() const { return process_ ? process_->pid() : -1; }
  [[nodiscard]] const std::string& data_dir() const { return data_dir_; }
  // Everything it logged so far, over all starts (its stderr).
  [[nodiscard]] std::string log_text() const;

 private:
  temp_dir dir_;
  std::map<std::string, std::string> env_;
  int workers_;
  std::string data_dir_;
  std::string log_path_;
  std::unique_ptr<child_process> process_;
};

}  // namespace grok::testing
