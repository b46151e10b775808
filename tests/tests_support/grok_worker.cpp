#include "tests_support/grok_worker.h"

#include <signal.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace grok::testing {

grok_worker::grok_worker(std::map<std::string, std::string> env, int workers)
    : env_(std::move(env)),
      workers_(workers),
      data_dir_(dir_.file("data")),
      log_path_(dir_.file("worker.log")) {}

grok_worker::~grok_worker() {
  if (process_) stop(std::chrono::seconds(10));
}

std::string grok_worker::log_text() const {
  std::ifstream in(log_path_);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

void grok_worker::start() {
  if (process_) return;
  // As grok_server: the log goes to a file (never a pipe nobody reads), and exec keeps the
  // PID grok's own, for signals.
  const auto before = log_text().size();
  const std::string command = "exec \"$0\" \"$@\" 2>>'" + log_path_ + "'";
  process_ = std::make_unique<child_process>(
      std::vector<std::string>{"/bin/sh", "-c", command, program_path("grok"), "--data-dir",
                               data_dir_, "worker", "--workers", std::to_string(workers_)},
      env_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (log_text().find("ready: ", before) == std::string::npos) {
    // wait() doubles as the pause between looks: it returns early only if grok exited.
    if (process_->wait(std::chrono::milliseconds(20))) {
      process_.reset();
      throw std::runtime_error("grok worker exited while starting: " + log_text());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      process_.reset();  // SIGKILLs it
      throw std::runtime_error("grok worker was not ready within 30 s: " + log_text());
    }
  }
}

std::optional<int> grok_worker::stop(std::chrono::milliseconds timeout) {
  if (!process_) return 0;
  process_->send_signal(SIGTERM);
  auto code = process_->wait(timeout);
  if (!code) process_->send_signal(SIGKILL);
  process_.reset();
  return code;
}

int grok_worker::kill() {
  if (!process_) return 0;
  process_->send_signal(SIGKILL);
  (void)process_->wait(std::chrono::seconds(10));
  const int sig = process_->last_signal();
  process_.reset();
  return sig;
}

}  // namespace grok::testing
