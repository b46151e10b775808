// A small HTTP client for black-box tests of the API (libcurl, loopback only): whole
// responses with their headers, and Server-Sent Events read until the server ends them.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace grok::testing {

struct api_response {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names, last value wins
  std::string body;

  [[nodiscard]] nlohmann::json json() const;  // discarded value when not JSON
  [[nodiscard]] std::string header(const std::string& lower_name) const;
};

// One request. `headers` are "Name: value" lines. Throws std::runtime_error when the
// connection fails (not for HTTP errors).
api_response api_call(const std::string& method, const std::string& url,
                      const std::vector<std::string>& headers = {}, const std::string& body = "",
                      std::chrono::milliseconds timeout = std::chrono::seconds(20));

struct sse_event {
  std::string id;
  std::string event;
  std::string data;
};

struct sse_result {
  long status = 0;
  std::string content_type;
  std::vector<sse_event> events;
  std::string raw;
  bool ended = false;  // the server ended the response (not our timeout or stop)
};

// Reads an SSE response until the server ends it, `stop` returns true for an event, or
// `timeout` passes.
sse_result read_sse(const std::string& url, const std::vector<std::string>& headers,
                    std::chrono::milliseconds timeout,
                    const std::function<bool(const sse_event&)>& stop = nullptr);

// Parses "id:/event:/data:" blocks; comment lines (": ...") are skipped.
std::vector<sse_event> parse_sse(const std::string& text);

}  // namespace grok::testing
