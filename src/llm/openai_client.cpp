#include "llm/openai_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <stop_token>

#include "core/version.h"
#include "llm/openai_wire.h"
#include "llm/sse_parser.h"
#include "llm/stream_accumulator.h"
#include "llm/structured_output.h"

namespace grok::llm {
namespace {

using steady = std::chrono::steady_clock;

void ensure_curl_initialised() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)done;
}

// One multi handle per thread: it holds that thread's connection cache, so consecutive
// calls to the same server reuse their connection.
struct thread_multi {
  CURLM* handle = nullptr;
  thread_multi() {
    ensure_curl_initialised();
    handle = curl_multi_init();
  }
  ~thread_multi() { curl_multi_cleanup(handle); }
  thread_multi(const thread_multi&) = delete;
  thread_multi& operator=(const thread_multi&) = delete;
};

CURLM* this_thread_multi() {
  thread_local thread_multi multi;
  return multi.handle;
}

bool iequals_prefix(std::string_view line, std::string_view prefix) {
  if (line.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != prefix[i]) return false;
  }
  return true;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' '))
    s.remove_suffix(1);
  return std::string(s);
}

// Everything one HTTP attempt accumulates; the curl callbacks write here.
struct attempt_state {
  bool want_stream = false;
  std::size_t max_bytes = 0;
  std::function<void(std::string_view)> on_delta;

  CURL* easy = nullptr;
  bool status_known = false;
  long status = 0;
  bool stream_mode = false;
  std::string content_type;
  std::string retry_after;
  std::string raw;
  std::size_t bytes = 0;
  bool got_first_byte = false;
  steady::time_point last_data;

  sse_parser parser;
  std::vector<sse_event> events;
  stream_accumulator accumulator{[this](std::string_view piece) {
    delivered = true;
    if (on_delta) on_delta(piece);
  }};
  bool delivered = false;  // content already handed to on_delta
  bool done_seen = false;  // "data: [DONE]" arrived
  std::optional<llm_error> abort;

  void take_events() {
    for (auto& e : events) {
      if (abort) break;
      if (e.data == "[DONE]") {
        done_seen = true;
        continue;
      }
      if (auto r = accumulator.add_chunk(e.data); !r) {
        abort = llm_error{
            r.error().code == errc::unavailable ? failure::server_error : failure::bad_response,
            r.error().message};
      }
    }
    events.clear();
  }
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto& st = *static_cast<attempt_state*>(user);
  std::string_view line(data, size * count);
  st.got_first_byte = true;
  st.last_data = steady::now();
  if (iequals_prefix(line, "http/")) {  // a new response (e.g. after 100 Continue)
    st.content_type.clear();
    st.retry_after.clear();
  } else if (iequals_prefix(line, "content-type:")) {
    st.content_type = trim(line.substr(13));
  } else if (iequals_prefix(line, "retry-after:")) {
    st.retry_after = trim(line.substr(12));
  }
  return size * count;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto& st = *static_cast<attempt_state*>(user);
  const std::size_t n = size * count;
  st.got_first_byte = true;
  st.last_data = steady::now();
  st.bytes += n;
  if (st.bytes > st.max_bytes) {
    st.abort =
        llm_error{failure::bad_response, "response larger than " + std::to_string(st.max_bytes) +
                                             " bytes; stopped reading"};
    return 0;  // makes curl fail the transfer with CURLE_WRITE_ERROR
  }
  if (!st.status_known) {
    curl_easy_getinfo(st.easy, CURLINFO_RESPONSE_CODE, &st.status);
    st.status_known = true;
    st.stream_mode = st.want_stream && st.status == 200 &&
                     st.content_type.find("text/event-stream") != std::string::npos;
  }
  if (!st.stream_mode) {
    st.raw.append(data, n);
    return n;
  }
  if (auto r = st.parser.feed(std::string_view(data, n), st.events); !r) {
    st.abort = llm_error{failure::bad_response, r.error().message};
    return 0;
  }
  st.take_events();
  return st.abort ? 0 : n;
}

llm_error from_status(long status, const attempt_state& st, const std::string& base_url,
                      time_point now) {
  const std::string detail = error_message_from_body(st.raw);
  llm_error e;
  e.http_status = static_cast<int>(status);
  if (status == 401 || status == 403) {
    e.kind = failure::auth;
    e.message = "the model server at " + base_url + " refused the request (HTTP " +
                std::to_string(status) + "): " + detail + "; check GROK_LLM_API_KEY";
  } else if (status == 429) {
    e.kind = failure::rate_limited;
    e.message = "rate limited by the model server (HTTP 429): " + detail;
    e.retry_after = parse_retry_after(st.retry_after, now);
  } else if (status >= 500) {
    e.kind = failure::server_error;
    e.message = "model server error (HTTP " + std::to_string(status) + "): " + detail;
    e.retry_after = parse_retry_after(st.retry_after, now);
  } else if (status == 404) {
    e.kind = failure::bad_request;
    e.message = "not found (HTTP 404) at " + base_url + ": " + detail +
                "; is the model pulled and the URL right?";
  } else {
    e.kind = failure::bad_request;
    e.message =
        "the model server rejected the request (HTTP " + std::to_string(status) + "): " + detail;
  }
  return e;
}

bool status_is_retryable(int status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

}  // namespace

std::optional<millis> parse_retry_after(std::string_view value, time_point now) {
  std::string v = trim(value);
  if (v.empty()) return std::nullopt;
  std::int64_t seconds = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec == std::errc{} && ptr == v.data() + v.size()) {
    if (seconds < 0) return std::nullopt;
    return millis(std::min<std::int64_t>(seconds, 86'400) * 1000);
  }
  ensure_curl_initialised();
  const auto when = curl_getdate(v.c_str(), nullptr);  // HTTP-date
  if (when < 0) return std::nullopt;
  const auto delta = when * 1000 - to_unix_ms(now);
  return millis(std::clamp<std::int64_t>(delta, 0, 86'400'000));
}

openai_client::openai_client(client_settings settings) : settings_(std::move(settings)) {
  while (!settings_.base_url.empty() && settings_.base_url.back() == '/')
    settings_.base_url.pop_back();
  ensure_curl_initialised();
}

namespace {

struct attempt_outcome {
  llm_result<chat_response> value;
  bool delivered = false;
};

attempt_outcome run_attempt(const client_settings& settings, const std::string& body, bool stream,
                            const std::string* json_schema, const call_options& options,
                            steady::time_point call_deadline) {
  attempt_state st;
  st.want_stream = stream;
  st.max_bytes = settings.max_response_bytes;
  st.on_delta = options.on_delta;

  CURL* easy = curl_easy_init();
  if (easy == nullptr)
    return {tl::unexpected(llm_error{failure::unreachable, "curl_easy_init failed"})};
  st.easy = easy;
  const std::string url = settings.base_url + "/chat/completions";
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers =
      curl_slist_append(headers, stream ? "Accept: text/event-stream" : "Accept: application/json");
  std::string auth;
  if (!settings.api_key.empty()) {
    auth = "Authorization: Bearer " + settings.api_key;
    headers = curl_slist_append(headers, auth.c_str());
  }
  const std::string agent = "grok/" + std::string(k_version);
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, agent.c_str());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(settings.timeouts.connect.count()));
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &st);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);

  CURLM* multi = this_thread_multi();
  curl_multi_add_handle(multi, easy);
  std::atomic<bool> cancelled{false};
  std::stop_callback wake(options.stop, [&] {
    cancelled = true;
    curl_multi_wakeup(multi);
  });

  const auto started = steady::now();
  std::optional<llm_error> ours;  // a deadline or cancellation we enforced
  int running = 1;
  while (running != 0) {
    curl_multi_perform(multi, &running);
    if (running == 0 || st.abort) break;
    const auto now = steady::now();
    if (cancelled) {
      ours = llm_error{failure::cancelled, "the call was cancelled"};
      break;
    }
    auto deadline = call_deadline;
    std::string which = "the call's total time limit";
    if (!st.got_first_byte) {
      const auto ttfb = started + settings.timeouts.first_byte;
      if (ttfb < deadline) deadline = ttfb, which = "the time-to-first-byte limit";
    } else {
      const auto idle = st.last_data + settings.timeouts.idle;
      if (idle < deadline) deadline = idle, which = "the idle limit between chunks";
    }
    if (now >= deadline) {
      ours = llm_error{failure::timeout, "no answer from the model server within " + which};
      break;
    }
    const auto wait = std::chrono::duration_cast<millis>(deadline - now).count() + 1;
    curl_multi_poll(multi, nullptr, 0, static_cast<int>(std::min<std::int64_t>(wait, 1000)),
                    nullptr);
  }

  CURLcode code = CURLE_OK;
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
    if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy) code = msg->data.result;
  }
  if (!st.status_known) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &st.status);
  curl_multi_remove_handle(multi, easy);
  curl_easy_cleanup(easy);
  curl_slist_free_all(headers);

  auto failed = [&](llm_error e) {
    return attempt_outcome{tl::unexpected(std::move(e)), st.delivered};
  };
  if (ours) return failed(std::move(*ours));
  if (st.abort) return failed(std::move(*st.abort));
  if (code != CURLE_OK) {
    std::string what = curl_easy_strerror(code);
    switch (code) {
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_CONNECT:
        return failed({failure::unreachable, "cannot connect to the model server at " +
                                                 settings.base_url + " (" + what +
                                                 "); start it (for Ollama: `ollama serve`) or set "
                                                 "GROK_LLM_BASE_URL"});
      case CURLE_OPERATION_TIMEDOUT:
        return failed({failure::timeout, "model server at " + settings.base_url + ": " + what});
      default:
        return failed(
            {failure::unreachable, "connection to the model server broke (" + what + ")"});
    }
  }
  if (st.status != 200) {
    return failed(from_status(st.status, st, settings.base_url, system_clock::instance().now()));
  }

  chat_response response;
  if (st.stream_mode) {
    st.parser.finish(st.events);
    st.take_events();
    if (st.abort) return failed(std::move(*st.abort));
    response = st.accumulator.response();
    if (!st.done_seen && response.finish_reason.empty()) {
      return failed({failure::bad_response, "the stream ended before the response was complete"});
    }
  } else {
    if (st.content_type.find("json") == std::string::npos) {
      return failed({failure::bad_response,
                     "expected a JSON response, got " +
                         (st.content_type.empty() ? std::string("no content type")
                                                  : safe_excerpt(st.content_type, 80)) +
                         ": " + safe_excerpt(st.raw)});
    }
    auto parsed = parse_response_body(st.raw);
    if (!parsed) return failed(std::move(parsed.error()));
    response = std::move(*parsed);
    if (options.on_delta && !response.content.empty()) options.on_delta(response.content);
  }
  if (settings.fail_on_truncation &&
      (response.finish_reason == "length" || response.finish_reason == "content_filter")) {
    llm_error e{response.finish_reason == "length" ? failure::length : failure::content_filter,
                response.finish_reason == "length"
                    ? "the answer was cut off at the token limit"
                    : "the model server's content filter stopped the answer"};
    e.partial = response;
    return failed(std::move(e));
  }
  if (settings.validate_structured_output && json_schema != nullptr) {
    if (auto checked = check_structured_output(response.content, *json_schema); !checked) {
      llm_error e{failure::invalid_output, checked.error().message};
      e.partial = response;
      return failed(std::move(e));
    }
  }
  return {std::move(response), st.delivered};
}

}  // namespace

llm_result<chat_response> openai_client::complete(const chat_request& request,
                                                  const call_options& options) {
  auto body = build_request_body(request);
  if (!body) return tl::unexpected(llm_error{failure::bad_request, body.error().message});
  const auto call_deadline = steady::now() + settings_.timeouts.total;
  const int max_attempts = std::max(settings_.retry.max_attempts, 1);
  for (int attempt = 1;; ++attempt) {
    auto outcome =
        run_attempt(settings_, *body, request.stream,
                    request.json_schema ? &*request.json_schema : nullptr, options, call_deadline);
    if (outcome.value) return std::move(outcome.value);
    llm_error e = std::move(outcome.value.error());
    e.attempts = attempt;
    const bool transient = e.kind == failure::unreachable || e.kind == failure::bad_response ||
                           (e.http_status != 0 && status_is_retryable(e.http_status));
    // Content already streamed to the caller cannot be taken back: do not start over.
    if (!transient || outcome.delivered || attempt >= max_attempts)
      return tl::unexpected(std::move(e));
    if (e.retry_after && *e.retry_after > settings_.retry.max_retry_after) {
      e.message +=
          "; the server asked to wait " + std::to_string(e.retry_after->count() / 1000) + " s";
      return tl::unexpected(std::move(e));
    }
    const millis delay = e.retry_after.value_or(retry_delay(settings_.retry.backoff, attempt));
    if (steady::now() + delay >= call_deadline) return tl::unexpected(std::move(e));
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    if (cv.wait_for(lock, options.stop, delay, [] { return false; });
        options.stop.stop_requested()) {
      return tl::unexpected(llm_error{failure::cancelled, "the call was cancelled", 0, attempt});
    }
  }
}

}  // namespace grok::llm
