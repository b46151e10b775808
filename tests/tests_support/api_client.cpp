#include "tests_support/api_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace grok::testing {
namespace {

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::size_t collect_header(char* data, std::size_t size, std::size_t n, void* out) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(value.begin());
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

using easy_ptr = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using slist_ptr = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

slist_ptr header_list(const std::vector<std::string>& headers) {
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  // No "Expect: 100-continue" round trip for larger bodies.
  list = curl_slist_append(list, "Expect:");
  return {list, curl_slist_free_all};
}

}  // namespace

nlohmann::json api_response::json() const { return nlohmann::json::parse(body, nullptr, false); }

std::string api_response::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

api_response api_call(const std::string& method, const std::string& url,
                      const std::vector<std::string>& headers, const std::string& body,
                      std::chrono::milliseconds timeout) {
  easy_ptr easy(curl_easy_init(), curl_easy_cleanup);
  api_response r;
  auto list = header_list(headers);
  curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(easy.get(), CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(easy.get(), CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
  if (method == "HEAD") curl_easy_setopt(easy.get(), CURLOPT_NOBODY, 1L);
  if (!body.empty() || method == "POST") {
    curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  auto rc = curl_easy_perform(easy.get());
  if (rc != CURLE_OK) {
    throw std::runtime_error(method + " " + url + " failed: " + curl_easy_strerror(rc));
  }
  curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

std::vector<sse_event> parse_sse(const std::string& text) {
  std::vector<sse_event> out;
  std::size_t pos = 0;
  while (true) {
    auto end = text.find("\n\n", pos);
    if (end == std::string::npos) break;
    std::istringstream block(text.substr(pos, end - pos));
    pos = end + 2;
    sse_event e;
    bool any = false;
    for (std::string line; std::getline(block, line);) {
      if (line.empty() || line[0] == ':') continue;
      auto colon = line.find(':');
      auto field = line.substr(0, colon);
      auto value = colon == std::string::npos ? std::string() : line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
      if (field == "id") e.id = value;
      if (field == "event") e.event = value;
      if (field == "data") e.data += (e.data.empty() ? "" : "\n") + value;
      any = true;
    }
    if (any) out.push_back(std::move(e));
  }
  return out;
}

namespace {

struct sse_state {
  std::string buffer;
  std::size_t parsed_to = 0;
  std::vector<sse_event> events;
  const std::function<bool(const sse_event&)>* stop = nullptr;
  bool stopped = false;
};

std::size_t collect_sse(char* data, std::size_t size, std::size_t n, void* out) {
  auto& s = *static_cast<sse_state*>(out);
  s.buffer.append(data, size * n);
  // Parse every complete block that arrived.
  auto last = s.buffer.rfind("\n\n");
  if (last != std::string::npos && last + 2 > s.parsed_to) {
    auto fresh = parse_sse(s.buffer.substr(s.parsed_to, last + 2 - s.parsed_to));
    s.parsed_to = last + 2;
    for (auto& e : fresh) {
      s.events.push_back(e);
      if (*s.stop && (*s.stop)(e)) {
        s.stopped = true;
        return 0;  // aborts the transfer
      }
    }
  }
  return size * n;
}

}  // namespace

sse_result read_sse(const std::string& url, const std::vector<std::string>& headers,
                    std::chrono::milliseconds timeout,
                    const std::function<bool(const sse_event&)>& stop) {
  easy_ptr easy(curl_easy_init(), curl_easy_cleanup);
  auto list = header_list(headers);
  sse_state state;
  state.stop = &stop;
  std::map<std::string, std::string> response_headers;
  curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, collect_sse);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(easy.get(), CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(easy.get(), CURLOPT_HEADERDATA, &response_headers);
  curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
  auto rc = curl_easy_perform(easy.get());
  sse_result r;
  curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &r.status);
  r.content_type = response_headers["content-type"];
  r.events = std::move(state.events);
  r.raw = std::move(state.buffer);
  r.ended = rc == CURLE_OK;
  if (rc != CURLE_OK && !state.stopped && rc != CURLE_OPERATION_TIMEDOUT) {
    throw std::runtime_error("GET " + url + " failed: " + curl_easy_strerror(rc));
  }
  return r;
}

}  // namespace grok::testing
