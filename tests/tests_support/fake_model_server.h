// Starts tests/fakes/fake_openai.py (the scripted OpenAI-compatible server) on a free
// loopback port, and talks to its control endpoints. Stopped by PID when destroyed.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "tests_support/process.h"
#include "tests_support/temp_dir.h"

namespace grok::testing {

class fake_model_server {
 public:
  // `script` is the fake's JSON script (see the docstring of fake_openai.py).
  explicit fake_model_server(const nlohmann::json& script = nlohmann::json::object());

  [[nodiscard]] std::string base_url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/v1";
  }
  [[nodiscard]] int port() const { return port_; }
  // Every chat request received so far: [{"path", "headers", "body"}].
  [[nodiscard]] nlohmann::json requests() const;
  void set_script(const nlohmann::json& script) const;
  // Stops the server (SIGTERM, then waits); later calls are refused by the OS.
  void stop();

 private:
  temp_dir dir_;
  std::unique_ptr<child_process> process_;
  int port_ = 0;
};

// The script most end-to-end tests use: the planner returns two calculator steps (E1 is
// 6 * 7, E2 is #E1 + 1) and the solver streams "The answer is 43." in 4-character chunks,
// both reporting token usage.
nlohmann::json calculator_script();

// A minimal loopback HTTP request for the control endpoints, through libcurl.
std::string http_request(const std::string& method, const std::string& url,
                         const std::string& body = "");

}  // namespace grok::testing
