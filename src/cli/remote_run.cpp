// `grok run --server URL "TASK"`: the same task and the same terminal output as a local
// run, through a GROK server's HTTP API: POST /v1/runs, then the run's Server-Sent Events
// (resumed with Last-Event-ID if the connection drops), approvals with POST .../approve,
// Ctrl-C with POST .../cancel. The key comes from GROK_API_KEY; with a signing secret set,
// writes are signed as the server expects.
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/signing.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/progress_printer.h"
#include "cli/text.h"
#include "engine/events.h"
#include "llm/sse_parser.h"

namespace grok::cli {
namespace {

using json = nlohmann::json;

// Reconnects of the event stream before giving up (each after a short pause).
constexpr int k_max_reconnects = 20;
constexpr std::size_t k_max_response_bytes = 8 * 1024 * 1024;

struct remote {
  std::string base;  // http://host:port, no trailing slash
  std::string key;
  std::string signing_secret;
};

struct reply {
  long status = 0;
  std::string body;
  std::string transport_error;  // set when no HTTP answer came
};

std::size_t collect_body(char* data, std::size_t size, std::size_t n, void* out) {
  auto& body = *static_cast<std::string*>(out);
  if (body.size() + size * n > k_max_response_bytes) return 0;
  body.append(data, size * n);
  return size * n;
}

using easy_ptr = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using slist_ptr = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

slist_ptr headers_for(const remote& r, const std::string& method, const std::string& target,
                      const std::string& body, const std::string& last_event_id = {}) {
  curl_slist* list = nullptr;
  const auto auth = "Authorization: Bearer " + r.key;
  list = curl_slist_append(list, auth.c_str());
  list = curl_slist_append(list, "Content-Type: application/json");
  list = curl_slist_append(list, "Expect:");
  if (!last_event_id.empty()) {
    list = curl_slist_append(list, ("Last-Event-ID: " + last_event_id).c_str());
  }
  if (!r.signing_secret.empty() && method == "POST") {
    const auto ts = std::to_string(std::time(nullptr));
    const auto sig = api::sign_request(r.signing_secret, ts, method, target, body);
    list = curl_slist_append(list, ("X-Grok-Timestamp: " + ts).c_str());
    list = curl_slist_append(list, ("X-Grok-Signature: " + sig).c_str());
  }
  return {list, curl_slist_free_all};
}

reply call(const remote& r, const std::string& method, const std::string& target,
           const std::string& body = {}) {
  easy_ptr h(curl_easy_init(), curl_easy_cleanup);
  reply out;
  if (!h) {
    out.transport_error = "could not start an HTTP client";
    return out;
  }
  const auto url = r.base + target;
  auto headers = headers_for(r, method, target, body);
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
  curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, 60'000L);
  if (method == "POST") {
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  const auto rc = curl_easy_perform(h.get());
  if (rc != CURLE_OK) {
    out.transport_error = curl_easy_strerror(rc);
    return out;
  }
  curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

// "HTTP 403: <detail>" from a problem+json body, or the body's first line.
std::string describe_reply(const reply& r) {
  if (!r.transport_error.empty()) return r.transport_error;
  auto doc = json::parse(r.body, nullptr, false);
  std::string detail = doc.is_object() && doc.contains("detail") && doc["detail"].is_string()
                           ? doc["detail"].get<std::string>()
                           : one_line(r.body, 200);
  return "HTTP " + std::to_string(r.status) + ": " + detail;
}

// Follows one run's SSE stream, printing events, until its terminal event.
class stream_follower {
 public:
  stream_follower(const remote& r, std::string run_id, const run_task_options& o)
      : remote_(r), run_id_(std::move(run_id)), options_(o) {}

  // The terminal event's type, or an error message.
  result<std::string> follow() {
    int failures = 0;
    while (terminal_.empty()) {
      const auto before = last_id_;
      auto outcome = stream_once();
      if (!terminal_.empty()) break;
      if (!outcome) return tl::unexpected(outcome.error());
      if (last_id_ == before && ++failures > k_max_reconnects) {
        return fail(errc::unavailable, "the event stream of " + run_id_ + " keeps breaking");
      }
      if (last_id_ != before) failures = 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * std::min(failures + 1, 10)));
    }
    return terminal_;
  }

 private:
  static std::size_t on_bytes(char* data, std::size_t size, std::size_t n, void* self) {
    auto& me = *static_cast<stream_follower*>(self);
    std::vector<llm::sse_event> events;
    if (!me.parser_->feed(std::string_view(data, size * n), events)) return 0;
    for (const auto& e : events) {
      me.handle(e);
      if (!me.terminal_.empty()) return 0;  // done: end the transfer
    }
    return size * n;
  }

  void handle(const llm::sse_event& e) {
    auto env = json::parse(e.data, nullptr, false);
    if (!env.is_object()) return;
    if (!e.id.empty()) last_id_ = e.id;
    if (options_.json) {
      std::cout << compact(env) << "\n" << std::flush;
    } else {
      printer_.print(env);
    }
    const auto type = env.value("event", "");
    if (type == "run.awaiting_input") approve();
    if (engine::is_terminal_event(type)) terminal_ = type;
  }

  void approve() {
    const bool yes = options_.approve || (!options_.json && ask_approval());
    json body = {{"approve", yes}};
    if (!yes) body["reason"] = "not approved at the terminal";
    auto r = call(remote_, "POST", "/v1/runs/" + run_id_ + "/approve", body.dump());
    if (r.status != 200) std::cerr << "grok: error: approving: " << describe_reply(r) << "\n";
  }

  // One connection of the stream; ok when it ended (by the server or by us).
  result<void> stream_once() {
    parser_ = std::make_unique<llm::sse_parser>();
    easy_ptr h(curl_easy_init(), curl_easy_cleanup);
    if (!h) return fail(errc::internal, "could not start an HTTP client");
    const auto target = "/v1/runs/" + run_id_ + "/stream";
    const auto url = remote_.base + target;
    auto headers = headers_for(remote_, "GET", target, {}, last_id_);
    curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, on_bytes);
    curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, this);
    curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
    curl_easy_setopt(h.get(), CURLOPT_FAILONERROR, 1L);
    // The server sends a heartbeat while idle: a minute of silence means a dead link.
    curl_easy_setopt(h.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h.get(), CURLOPT_LOW_SPEED_TIME, 60L);
    const auto rc = curl_easy_perform(h.get());
    long status = 0;
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_HTTP_RETURNED_ERROR && status >= 400 && status < 500 && status != 429) {
      return fail(errc::invalid_argument,
                  "streaming " + run_id_ + ": HTTP " + std::to_string(status));
    }
    return {};
  }

  const remote& remote_;
  std::string run_id_;
  const run_task_options& options_;
  progress_printer printer_;
  std::unique_ptr<llm::sse_parser> parser_;
  std::string last_id_;
  std::string terminal_;
};

}  // namespace

int run_task_remote(const config& c, const run_task_options& o) {
  remote r;
  r.base = *o.server;
  while (!r.base.empty() && r.base.back() == '/') r.base.pop_back();
  if (!r.base.starts_with("http://") && !r.base.starts_with("https://")) {
    return report_error("--server must be an http:// or https:// URL, e.g. http://127.0.0.1:8080");
  }
  const char* key = std::getenv("GROK_API_KEY");
  if (key == nullptr || *key == '\0') {
    return report_error(
        "--server needs an API key in GROK_API_KEY (create one on the server with `grok keys "
        "create --scope runs --name NAME`)");
  }
  r.key = key;
  r.signing_secret = c.signing_secret;

  interrupt_watch interrupt;  // blocks the stop signals; they cancel the run (below)

  const json body = {{"input", o.task}, {"options", o.options}};
  auto created = call(r, "POST", "/v1/runs", body.dump());
  if (created.status != 201 && created.status != 200) {
    return report_error("creating the run on " + r.base + ": " + describe_reply(created));
  }
  auto run = json::parse(created.body, nullptr, false);
  if (!run.is_object() || !run.contains("id") || !run["id"].is_string()) {
    return report_error("the server answered without a run id: " + one_line(created.body, 200));
  }
  const std::string run_id = run["id"];

  interrupt.start([&] {
    auto cancelled = call(r, "POST", "/v1/runs/" + run_id + "/cancel",
                          json{{"reason", "interrupted from the terminal"}}.dump());
    if (cancelled.status != 200) {
      std::cerr << "grok: error: cancelling: " << describe_reply(cancelled) << "\n";
    }
  });

  stream_follower follower(r, run_id, o);
  auto final_event = follower.follow();
  interrupt.stop();
  if (!final_event) return report_error(describe(final_event.error()));
  if (*final_event == "run.completed") return k_exit_ok;
  if (interrupt.interrupted()) return 130;
  return k_exit_error;
}

}  // namespace grok::cli
