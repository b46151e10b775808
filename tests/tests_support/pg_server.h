// A throwaway PostgreSQL cluster for tests: initdb into a temporary directory, then the
// `postgres` server itself as our child (not daemonized, so a test that dies takes it
// along), listening on 127.0.0.1 on a free port with its socket in the same directory, and
// trust authentication for the `postgres` user. It can be stopped and started again on the
// same port and data, as when the database restarts under running API and worker processes.
//
// PostgreSQL refuses to run as root: as root, initdb and postgres run as the `postgres`
// user (created by Debian's package) through setpriv, which execs in place, so our child is
// the server process itself.
//
// Thread-safety: none; use from the test's own thread. Failures to start throw
// std::runtime_error with the server's log.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "tests_support/process.h"
#include "tests_support/temp_dir.h"

namespace grok::testing {

class pg_server {
 public:
  // Creates the cluster (initdb) and starts the server; waits until it accepts connections.
  pg_server();
  ~pg_server();  // stops it; the directory goes with the temp_dir
  pg_server(const pg_server&) = delete;
  pg_server& operator=(const pg_server&) = delete;

  [[nodiscard]] int port() const { return port_; }
  // "postgres://postgres@127.0.0.1:PORT/DB" (TCP, never the socket).
  [[nodiscard]] std::string url(const std::string& database = "postgres") const;
  // Runs `CREATE DATABASE name`; returns the database's URL.
  std::string create_database(const std::string& name);

  // Fast shutdown (SIGINT), waiting for the server to exit.
  void stop();
  // Starts it again on the same port and data; waits until it accepts connections.
  void start();
  [[nodiscard]] bool running() const { return process_ != nullptr; }
  // The server's log so far.
  [[nodiscard]] std::string log_text() const;

 private:
  void launch();
  temp_dir dir_;
  std::string bin_dir_;
  std::string data_dir_;
  std::string socket_dir_;
  std::unique_ptr<child_process> process_;
  int port_ = 0;
};

// Runs one SQL statement through libpq on `url`; throws std::runtime_error with the
// server's message on failure. Returns the first column of the first row ("" if none).
std::string pg_exec(const std::string& url, const std::string& sql);

}  // namespace grok::testing
