// A real redis-server for tests: on a free loopback port, with its files in a temporary
// directory, no persistence. It runs in the foreground as our child (not daemonized), so a
// test that dies takes it along (see child_process) instead of leaving it running. It can be
// stopped and started again on the same port, as when Redis restarts under a running API.
//
// Thread-safety: none; use from the test's own thread. Failures to start throw
// std::runtime_error with redis-server's log.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests_support/process.h"
#include "tests_support/temp_dir.h"

namespace grok::testing {

class redis_server {
 public:
  // Starts it and waits until it answers PING. `extra_args` go on the command line, e.g.
  // {"--requirepass", "pw"}.
  explicit redis_server(std::vector<std::string> extra_args = {});
  ~redis_server();  // stops it
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  [[nodiscard]] int port() const { return port_; }
  // "redis://127.0.0.1:PORT", or with ":password@" before the host when given.
  [[nodiscard]] std::string url(const std::string& password = "") const;

  // SIGTERM, then waits for it to exit (SIGKILL after a generous timeout).
  void stop();
  // Starts it again on the same port (empty: nothing is saved); waits for PING.
  void start();
  [[nodiscard]] bool running() const { return process_ != nullptr; }
  // SIGSTOP / SIGCONT: a Redis that accepts connections but answers nothing.
  void pause();
  void resume();
  // True when something on the port answers PING (+PONG, or -NOAUTH with a password set).
  [[nodiscard]] bool answers_ping() const;

 private:
  void launch();  // starts the process on port_ and waits for PING; throws on failure
  [[nodiscard]] std::string log_text() const;

  temp_dir dir_;
  std::vector<std::string> extra_args_;
  int port_ = 0;
  std::unique_ptr<child_process> process_;  // null while stopped
};

}  // namespace grok::testing
