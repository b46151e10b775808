#include "tests_support/fake_model_server.h"

#include <curl/curl.h>
#include <signal.h>

#include <fstream>
#include <stdexcept>

namespace grok::testing {
namespace {

std::size_t collect(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

}  // namespace

std::string http_request(const std::string& method, const std::string& url,
                         const std::string& body) {
  CURL* easy = curl_easy_init();
  std::string out;
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  if (method == "POST") {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  auto rc = curl_easy_perform(easy);
  curl_easy_cleanup(easy);
  if (rc != CURLE_OK)
    throw std::runtime_error(std::string("control request failed: ") + curl_easy_strerror(rc));
  return out;
}

fake_model_server::fake_model_server(const nlohmann::json& script) {
  const auto script_path = dir_.file("script.json");
  std::ofstream(script_path)
      << (script.is_null() || script.empty() ? nlohmann::json::object() : script).dump();
  process_ = std::make_unique<child_process>(std::vector<std::string>{
      "/usr/bin/python3", std::string(GROK_SOURCE_DIR) + "/tests/fakes/fake_openai.py", "--script",
      script_path});
  if (!process_->wait_for_stdout_line("listening on 127.0.0.1:", std::chrono::seconds(20))) {
    throw std::runtime_error("fake model server did not start: " + process_->stderr_text());
  }
  auto line = process_->read_stdout(4096, std::chrono::milliseconds(0));
  auto colon = line.rfind(':');
  port_ = std::stoi(line.substr(colon + 1));
}

nlohmann::json fake_model_server::requests() const {
  return nlohmann::json::parse(
      http_request("GET", "http://127.0.0.1:" + std::to_string(port_) + "/_requests"));
}

void fake_model_server::set_script(const nlohmann::json& script) const {
  http_request("POST", "http://127.0.0.1:" + std::to_string(port_) + "/_script", script.dump());
}

void fake_model_server::stop() {
  if (!process_) return;
  process_->send_signal(SIGTERM);
  process_->wait(std::chrono::seconds(10));
  process_.reset();
}

nlohmann::json calculator_script() {
  using json = nlohmann::json;
  json plan = {{"steps",
                {{{"id", "E1"}, {"tool", "calculator"}, {"args", {{"expression", "6 * 7"}}}},
                 {{"id", "E2"}, {"tool", "calculator"}, {"args", {{"expression", "#E1 + 1"}}}}}}};
  return {{"rules",
           {{{"match", {{"contains", "You are the planner"}}},
             {"reply", {{"json", plan}, {"usage", true}}}},
            {{"match", {{"contains", "You are the solver"}}},
             {"reply", {{"content", "The answer is 43."}, {"usage", true}, {"chunk_chars", 4}}}}}}};
}

}  // namespace grok::testing
