// Starting real child processes in tests: the grok binary and test helpers.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace grok::testing {

// A loopback TCP port nothing listens on right now (the kernel's pick for an ephemeral
// bind). Another process may take it before the caller binds: see start_on_free_port.
int pick_free_port();

// Picks a free port and calls `start(port)` until it returns without throwing
// std::runtime_error, at most `attempts` times; returns the port it started on, or
// rethrows the last failure.
int start_on_free_port(const std::function<void(int)>& start, int attempts);

// The path of a built program: "grok" or a test helper built beside the tests.
std::string program_path(const std::string& name);

struct run_output {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

// Runs a program to completion with extra environment variables (others are inherited),
// in `cwd` when given. Kills it and fails after `timeout`.
run_output run_program(const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env = {},
                       const std::optional<std::string>& cwd = std::nullopt,
                       std::chrono::seconds timeout = std::chrono::seconds(60));

// A child left running: its stdout and stderr are readable through pipes.
class child_process {
 public:
  child_process(const std::vector<std::string>& argv,
                const std::map<std::string, std::string>& env = {},
                const std::optional<std::string>& cwd = std::nullopt);
  ~child_process();  // SIGKILLs and reaps the child if it is still running
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  // Reads stdout until a line containing `needle` arrives; false on EOF or timeout.
  bool wait_for_stdout_line(const std::string& needle, std::chrono::milliseconds timeout);
  bool wait_for_stderr_line(const std::string& needle, std::chrono::milliseconds timeout);
  // Reads up to `n` bytes of stdout, waiting at most `timeout`; returns what was read.
  std::string read_stdout(std::size_t n, std::chrono::milliseconds timeout);
  void send_signal(int sig);
  // Waits for exit; the exit code, or -1 for a signal (see last_signal()), or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  [[nodiscard]] int last_signal() const { return signal_; }
  [[nodiscard]] const std::string& stderr_text() const { return err_; }

 private:
  bool wait_for_line(int fd, std::string& buffer, const std::string& needle,
                     std::chrono::milliseconds timeout);
  void drain_stderr();
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool reaped_ = false;
  int signal_ = 0;
  int exit_code_ = -1;
  std::string out_;
  std::string err_;
};

}  // namespace grok::testing
