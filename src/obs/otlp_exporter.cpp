#include "obs/otlp_exporter.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "core/version.h"
#include "obs/metrics.h"

namespace grok::obs {
namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Pause before the one retry of a failed batch when the collector names no Retry-After.
constexpr milliseconds k_retry_pause{500};

void ensure_curl_initialised() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)done;
}

struct response_state {
  std::string body;
  std::size_t max_bytes = 0;
  bool cut = false;
  milliseconds retry_after{0};
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto& st = *static_cast<response_state*>(user);
  const auto n = size * count;
  if (st.body.size() + n > st.max_bytes) {
    st.cut = true;
    return 0;  // stop reading: a collector's answer is small
  }
  st.body.append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto& st = *static_cast<response_state*>(user);
  const auto n = size * count;
  std::string_view line(data, n);
  constexpr std::string_view k_name = "retry-after:";
  if (line.size() > k_name.size()) {
    bool match = true;
    for (std::size_t i = 0; i < k_name.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(line[i])) == k_name[i];
    }
    if (match) {
      auto v = line.substr(k_name.size());
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      long seconds = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
      (void)end;
      // Only delta-seconds; an HTTP date is ignored (the default pause applies).
      if (ec == std::errc() && seconds >= 0 && seconds < 3600) {
        st.retry_after = std::chrono::seconds(seconds);
      }
    }
  }
  return n;
}

// The spans a partial success rejected ({"partialSuccess": {"rejectedSpans": "3"}}).
std::uint64_t rejected_spans(const std::string& body) {
  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return 0;
  auto ps = doc.find("partialSuccess");
  if (ps == doc.end() || !ps->is_object()) return 0;
  auto r = ps->find("rejectedSpans");
  if (r == ps->end()) return 0;
  if (r->is_number_unsigned()) return r->get<std::uint64_t>();
  if (r->is_string()) {
    const auto& s = r->get_ref<const std::string&>();
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size()) return v;
  }
  return 0;
}

// Where the path of a URL starts and where it ends (at '?' or '#', or the end).
std::pair<std::size_t, std::size_t> path_bounds(std::string_view url) {
  auto scheme = url.find("://");
  std::size_t authority = scheme == url.npos ? 0 : scheme + 3;
  auto path = url.find_first_of("/?#", authority);
  if (path == url.npos) return {url.size(), url.size()};
  auto end = url.find_first_of("?#", path);
  if (end == url.npos) end = url.size();
  return {path, end};
}

}  // namespace

std::string traces_url(std::string_view endpoint) {
  constexpr std::string_view k_suffix = "/v1/traces";
  auto [path, end] = path_bounds(endpoint);
  auto p = endpoint.substr(path, end - path);
  if (p.size() >= k_suffix.size() && p.substr(p.size() - k_suffix.size()) == k_suffix) {
    return std::string(endpoint);
  }
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  return std::string(endpoint.substr(0, path)) + std::string(p) + std::string(k_suffix) +
         std::string(endpoint.substr(end));
}

std::string loggable_url(std::string_view url) {
  auto [path, end] = path_bounds(url);
  auto scheme = url.find("://");
  std::size_t authority = scheme == url.npos ? 0 : scheme + 3;
  auto at = url.substr(authority, path - authority).rfind('@');
  std::string out(url.substr(0, authority));
  out += url.substr(at == url.npos ? authority : authority + at + 1,
                    path - (at == url.npos ? authority : authority + at + 1));
  out += url.substr(path, end - path);
  return out;
}

otlp_exporter::otlp_exporter(otlp_exporter_options options)
    : options_(std::move(options)),
      url_for_log_(loggable_url(options_.url)),
      exported_metric_(metrics().counter("grok_trace_spans_exported_total",
                                         "Spans the OTLP collector accepted.")),
      dropped_metric_(metrics().counter(
          "grok_trace_spans_dropped_total",
          "Spans not exported: queue_full, export_failed, rejected (by the collector) or "
          "shutdown.",
          {"reason"})),
      failures_metric_(metrics().counter("grok_trace_export_failures_total",
                                         "OTLP export requests that failed (a retry counts "
                                         "again).")) {
  options_.max_batch_spans = std::max<std::size_t>(options_.max_batch_spans, 1);
  options_.max_queue_spans = std::max<std::size_t>(options_.max_queue_spans, 1);
  ensure_curl_initialised();
  curl_ = curl_easy_init();
  thread_ = std::thread([this] { run(); });
}

otlp_exporter::~otlp_exporter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  curl_easy_cleanup(static_cast<CURL*>(curl_));
}

bool otlp_exporter::enqueue(span s) {
  {
    std::lock_guard lock(mutex_);
    ++accepted_;
    if (!stopping_ && queue_.size() < options_.max_queue_spans) {
      const bool first = queue_.empty();
      queue_.push_back({std::move(s), steady::now()});
      // The thread needs waking for the first span (its flush interval starts) and for a
      // full batch; in between it is already waiting with a deadline.
      if (!first && queue_.size() < options_.max_batch_spans) return true;
    } else {
      ++settled_;
      ++totals_.dropped;
      dropped_metric_.inc({stopping_ ? "shutdown" : "queue_full"});
      return false;
    }
  }
  wake_.notify_one();
  return true;
}

bool otlp_exporter::flush(milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const auto target = accepted_;
  flush_now_ = true;
  wake_.notify_one();
  return progress_.wait_for(lock, timeout, [&] { return settled_ >= target; });
}

otlp_exporter::totals otlp_exporter::counts() const {
  std::lock_guard lock(mutex_);
  return totals_;
}

void otlp_exporter::finish(std::size_t exported, std::size_t dropped, std::string_view reason) {
  {
    std::lock_guard lock(mutex_);
    settled_ += exported + dropped;
    totals_.exported += exported;
    totals_.dropped += dropped;
  }
  if (exported > 0) exported_metric_.inc({}, static_cast<double>(exported));
  if (dropped > 0) dropped_metric_.inc({reason}, static_cast<double>(dropped));
  progress_.notify_all();
}

void otlp_exporter::run() {
  const auto take_batch = [this] {
    std::vector<span> batch;
    const auto n = std::min(queue_.size(), options_.max_batch_spans);
    batch.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front().s));
      queue_.pop_front();
    }
    if (queue_.empty()) flush_now_ = false;
    return batch;
  };

  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const bool due = queue_.size() >= options_.max_batch_spans ||
                     (!queue_.empty() &&
                      (flush_now_ || steady::now() >= queue_.front().at + options_.flush_interval));
    if (!due) {
      if (queue_.empty()) {
        flush_now_ = false;
        wake_.wait(lock);
      } else {
        wake_.wait_until(lock, queue_.front().at + options_.flush_interval);
      }
      continue;
    }
    auto batch = take_batch();
    lock.unlock();
    send(std::move(batch), steady::time_point::max());
    lock.lock();
  }

  // Shutting down: what is queued gets export_timeout in all, then is dropped.
  const auto deadline = steady::now() + options_.export_timeout;
  while (!queue_.empty() && steady::now() < deadline) {
    auto batch = take_batch();
    lock.unlock();
    send(std::move(batch), deadline);
    lock.lock();
  }
  const auto left = queue_.size();
  queue_.clear();
  lock.unlock();
  if (left > 0) {
    spdlog::warn("trace export: {} span(s) still queued at shutdown were dropped", left);
    finish(0, left, "shutdown");
  }
}

void otlp_exporter::send(std::vector<span> batch, steady::time_point deadline) {
  const auto body = encode_otlp_json(batch, options_.resource);
  for (int attempt = 1;; ++attempt) {
    auto timeout = options_.export_timeout;
    if (deadline != steady::time_point::max()) {
      timeout =
          std::min(timeout, std::chrono::duration_cast<milliseconds>(deadline - steady::now()));
    }
    if (timeout <= milliseconds(0)) {
      finish(0, batch.size(), "shutdown");
      return;
    }
    auto outcome = post(body, timeout);
    if (outcome.ok) {
      const auto rejected = std::min<std::uint64_t>(outcome.rejected, batch.size());
      bool recovered = false;
      {
        std::lock_guard lock(mutex_);
        recovered = std::exchange(warned_, false);
      }
      if (recovered) spdlog::info("trace export to {} works again", url_for_log_);
      finish(batch.size() - rejected, rejected, "rejected");
      return;
    }
    failures_metric_.inc();
    bool first_warning = false;
    {
      std::lock_guard lock(mutex_);
      ++totals_.failed_requests;
      first_warning = !std::exchange(warned_, true);
    }
    if (first_warning) {
      spdlog::warn("trace export to {} failed ({}); failed batches are dropped until it works",
                   url_for_log_, outcome.why);
    }
    if (!outcome.retryable || attempt >= 2) {
      finish(0, batch.size(), "export_failed");
      return;
    }
    auto pause = outcome.retry_after > milliseconds(0)
                     ? std::min(outcome.retry_after, options_.export_timeout)
                     : k_retry_pause;
    std::unique_lock lock(mutex_);
    // Shutting down cuts the pause short; the retry still goes out within the deadline.
    wake_.wait_for(lock, pause, [this] { return stopping_; });
  }
}

otlp_exporter::post_outcome otlp_exporter::post(const std::string& body, milliseconds timeout) {
  post_outcome out;
  auto* easy = static_cast<CURL*>(curl_);
  if (easy == nullptr) {
    out.why = "curl_easy_init failed";
    return out;
  }
  curl_easy_reset(easy);
  response_state st;
  st.max_bytes = options_.max_response_bytes;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Accept: application/json");
  // No "Expect: 100-continue" round trip before larger batches.
  headers = curl_slist_append(headers, "Expect:");
  const std::string agent = "grok/" + std::string(k_version);
  curl_easy_setopt(easy, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, agent.c_str());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &st);
  const auto rc = curl_easy_perform(easy);
  curl_slist_free_all(headers);
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300) {
    // A body cut at the limit still means the collector took the spans.
    out.ok = true;
    if (!st.cut) out.rejected = rejected_spans(st.body);
    return out;
  }
  out.retry_after = st.retry_after;
  if (status == 0) {
    // No answer at all: refused, reset, timed out. Worth one more try.
    out.retryable = rc != CURLE_UNSUPPORTED_PROTOCOL && rc != CURLE_URL_MALFORMAT;
    out.why = curl_easy_strerror(rc);
    return out;
  }
  out.retryable = status == 429 || status == 502 || status == 503 || status == 504;
  out.why = "HTTP " + std::to_string(status);
  return out;
}

}  // namespace grok::obs
