#include "cli/model_probe.h"

#include <curl/curl.h>

#include <memory>

namespace grok::cli {
namespace {

std::size_t discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }

}  // namespace

model_probe::model_probe(std::string base_url, std::chrono::milliseconds timeout,
                         std::chrono::milliseconds cache_for)
    : base_url_(std::move(base_url)), timeout_(timeout), cache_for_(cache_for) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

api::readiness_check model_probe::check() {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (checked_ && now - checked_at_ < cache_for_) return last_;
  api::readiness_check c{.name = "model_server", .ok = false, .required = true, .detail = {}};
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), curl_easy_cleanup);
  if (!h) {
    c.detail = "could not start an HTTP client";
  } else {
    const auto url = base_url_ + "/models";
    curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
    curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h.get(), CURLOPT_MAXFILESIZE, 1L << 20);
    const auto rc = curl_easy_perform(h.get());
    long status = 0;
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
      c.detail = "model server at " + base_url_ + " is not reachable (" + curl_easy_strerror(rc) +
                 "): start it (e.g. `ollama serve`) or set GROK_LLM_BASE_URL";
    } else if (status >= 500) {
      c.detail = "model server at " + base_url_ + " answered HTTP " + std::to_string(status);
    } else {
      // Any answer below 500 (even 401 or 404 for servers without /models) means it is up.
      c.ok = true;
      c.detail = "model server at " + base_url_ + " answered HTTP " + std::to_string(status);
    }
  }
  last_ = c;
  checked_ = true;
  checked_at_ = now;
  return c;
}

}  // namespace grok::cli
