#include "tests_support/grok_server.h"

#include <signal.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace grok::testing {

grok_server::grok_server(std::map<std::string, std::string> env, std::string data_dir)
    : env_(std::move(env)), data_dir_(data_dir.empty() ? dir_.file("data") : std::move(data_dir)) {}

grok_server::~grok_server() {
  if (process_) stop(std::chrono::seconds(10));
}

std::string grok_server::create_key(const std::string& scope, const std::string& name) {
  auto out = run_program({program_path("grok"), "--data-dir", data_dir_, "keys", "create",
                          "--scope", scope, "--name", name},
                         env_);
  if (out.exit_code != 0) throw std::runtime_error("grok keys create failed: " + out.err);
  auto key = out.out;
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  return key;
}

std::string grok_server::log_text() const {
  std::ifstream in(log_path_);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

void grok_server::start(int workers) { launch({"--workers", std::to_string(workers)}); }

void grok_server::start_api_only() { launch({"--no-workers"}); }

void grok_server::launch(const std::vector<std::string>& serve_args) {
  // The log goes to a file, not a pipe: a server that logs a lot must never block on a
  // pipe nobody reads. exec keeps the PID grok's own, for signals.
  log_path_ = dir_.file("serve-" + std::to_string(++starts_) + ".log");
  const std::string command = "exec \"$0\" \"$@\" 2>>'" + log_path_ + "'";
  std::vector<std::string> argv{"/bin/sh", "-c",    command,    program_path("grok"), "--data-dir",
                                data_dir_, "serve", "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), serve_args.begin(), serve_args.end());
  process_ = std::make_unique<child_process>(argv, env_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string err;
  while ((err = log_text()).find("ready: listening on") == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline ||
        process_->wait(std::chrono::milliseconds(20))) {
      throw std::runtime_error("grok serve did not start: " + err);
    }
  }
  // "… (port N) …" in the ready line. (No std::regex: GCC 12 at -O1 warns inside it.)
  const auto at = err.find("(port ");
  if (at == std::string::npos) throw std::runtime_error("no port in grok serve's log: " + err);
  port_ = std::stoi(err.substr(at + 6));
  first_key_.clear();
  if (err.find("no API key existed") != std::string::npos) {
    // "grok_" + 64 hex digits and a newline.
    auto line = process_->read_stdout(70, std::chrono::seconds(10));
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    first_key_ = line;
  }
}

std::optional<int> grok_server::stop(std::chrono::milliseconds timeout) {
  if (!process_) return 0;
  process_->send_signal(SIGTERM);
  auto code = process_->wait(timeout);
  if (!code) process_->send_signal(SIGKILL);
  process_.reset();
  return code;
}

}  // namespace grok::testing
