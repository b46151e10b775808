// Event routes (SPEC §3, §4): GET /v1/runs/{id}/events (a page of stored events), GET
// /v1/runs/{id}/stream (Server-Sent Events) and GET /v1/ws (WebSocket). The streams are
// sessions of the stream hub; the transport drives them.
#include <limits>

#include "api/problem.h"
#include "api/service_impl.h"
#include "api/stream_session.h"
#include "engine/events.h"

namespace grok::api {

using json = nlohmann::json;

namespace {

constexpr int k_default_events = 100;
constexpr int k_max_events = 1000;
constexpr auto k_max_seq = std::numeric_limits<std::int64_t>::max();

}  // namespace

http_response service::impl::run_events(request_context& ctx) {
  const auto& rid = ctx.request_id;
  auto run = accessible_run(ctx);
  if (!run) return std::move(run.error());
  std::int64_t after = 0;
  if (auto v = query_value(ctx.query, "after")) {
    auto n = parse_bounded_int(*v, 0, k_max_seq);
    if (!n) return bad_parameter("after", "must be a non-negative integer (an event seq)", rid);
    after = *n;
  }
  int limit = k_default_events;
  if (auto v = query_value(ctx.query, "limit")) {
    auto n = parse_bounded_int(*v, 1, k_max_events);
    if (!n) return bad_parameter("limit", "must be an integer from 1 to 1000", rid);
    limit = static_cast<int>(*n);
  }
  auto events = deps.store.events_after(run->id, after, limit);
  if (!events) return error_response(events.error(), rid);
  json data = json::array();
  std::int64_t next_after = after;
  for (const auto& e : *events) {
    data.push_back(engine::envelope(e));
    next_after = e.seq;
  }
  return json_response(200, {{"data", std::move(data)}, {"next_after", next_after}}, rid);
}

http_response service::impl::run_stream(request_context& ctx) {
  const auto& rid = ctx.request_id;
  auto run = accessible_run(ctx);
  if (!run) return std::move(run.error());
  // A reconnecting EventSource sends Last-Event-ID; it wins over ?after= of the first URL.
  std::int64_t after = 0;
  if (auto v = ctx.request.header("Last-Event-ID")) {
    auto n = parse_bounded_int(*v, 0, k_max_seq);
    if (!n)
      return bad_parameter("Last-Event-ID", "must be a non-negative integer (an event seq)", rid);
    after = *n;
  } else if (auto q = query_value(ctx.query, "after")) {
    auto n = parse_bounded_int(*q, 0, k_max_seq);
    if (!n) return bad_parameter("after", "must be a non-negative integer (an event seq)", rid);
    after = *n;
  }
  auto session = deps.hub.open_sse(run->id, after);
  if (!session) return problem_response(503, "streaming is unavailable (shutting down)", rid);
  http_response r;
  r.status = 200;
  r.headers.emplace_back("Content-Type", "text/event-stream");
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Accel-Buffering", "no");  // proxies must not hold events back
  r.headers.emplace_back("X-Request-Id", rid);
  r.stream = std::move(session);
  return r;
}

http_response service::impl::websocket(request_context& ctx) {
  auto session = deps.hub.open_websocket(viewer{ctx.who->key_id, ctx.who->admin});
  if (!session) {
    return problem_response(503, "streaming is unavailable (shutting down)", ctx.request_id);
  }
  http_response r;
  r.status = 101;
  r.headers.emplace_back("X-Request-Id", ctx.request_id);
  r.stream = std::move(session);
  return r;
}

}  // namespace grok::api
