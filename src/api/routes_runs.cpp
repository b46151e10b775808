// Run routes (SPEC §3): POST /v1/runs (with Idempotency-Key), GET /v1/runs, GET
// /v1/runs/{id}, POST /v1/runs/{id}/cancel and /approve.
#include "api/problem.h"
#include "api/run_json.h"
#include "api/service_impl.h"
#include "core/ids.h"
#include "core/sha256.h"
#include "obs/trace_context.h"

namespace grok::api {

using json = nlohmann::json;

namespace {

constexpr std::size_t k_max_idempotency_key = 200;
constexpr int k_default_page = 50;
constexpr int k_max_page = 200;

// 1 to 200 printable ASCII characters.
bool acceptable_idempotency_key(std::string_view key) noexcept {
  if (key.empty() || key.size() > k_max_idempotency_key) return false;
  for (char c : key) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

// The answer to a create that repeats an Idempotency-Key, or nothing when the key is new:
// 200 with the run as it is now for the same body, 409 for another body.
std::optional<http_response> replay_idempotent(store::store& st, const request_context& ctx,
                                               std::string_view key,
                                               std::string_view request_hash) {
  const auto& rid = ctx.request_id;
  auto found = st.find_run_by_idempotency_key(ctx.who->key_id, key);
  if (!found) return error_response(found.error(), rid);
  if (!*found) return std::nullopt;
  const auto& run = **found;
  if (run.request_hash != request_hash) {
    return problem_response(
        409, "Idempotency-Key was already used with another request body (run " + run.id + ")",
        rid);
  }
  auto steps = st.list_steps(run.id);
  if (!steps) return error_response(steps.error(), rid);
  return json_response(200, run_json(run, *steps), rid);
}

// The run as it is now, after a change made by the engine.
http_response current_run(store::store& st, const request_context& ctx) {
  auto run = st.get_run(ctx.param);
  if (!run) return error_response(run.error(), ctx.request_id);
  if (!*run) return problem_response(404, "no run " + ctx.param, ctx.request_id);
  auto steps = st.list_steps(ctx.param);
  if (!steps) return error_response(steps.error(), ctx.request_id);
  return json_response(200, run_json(**run, *steps), ctx.request_id);
}

}  // namespace

http_response service::impl::create_run(request_context& ctx) {
  const auto& rid = ctx.request_id;
  std::optional<std::string> idempotency_key;
  auto sent = ctx.request.header("Idempotency-Key");
  if (!sent) sent = ctx.request.header("X-Idempotency-Key");
  if (sent) {
    if (!acceptable_idempotency_key(*sent)) {
      return problem_response(400, "Idempotency-Key: must be 1 to 200 printable ASCII characters",
                              rid);
    }
    idempotency_key = std::string(*sent);
  }
  // The parsed body dumped again is canonical: object keys sorted, no spaces.
  const auto request_hash = sha256_hex(ctx.body.dump());
  if (idempotency_key) {
    if (auto replay = replay_idempotent(deps.store, ctx, *idempotency_key, request_hash)) {
      return std::move(*replay);
    }
  }

  engine::create_run_request req;
  req.input = ctx.body.at("input").get<std::string>();
  req.options = ctx.body.contains("options") ? ctx.body.at("options") : json(nullptr);
  req.owner_key_id = ctx.who->key_id;
  req.idempotency_key = idempotency_key;
  req.request_hash = request_hash;
  req.trace_parent = obs::caller_traceparent(ctx.request.headers);
  auto run = deps.engine.create_run(req);
  if (!run) {
    // Another request with the same key won the race between our lookup and our insert.
    if (run.error().code == errc::already_exists && idempotency_key) {
      if (auto replay = replay_idempotent(deps.store, ctx, *idempotency_key, request_hash)) {
        return std::move(*replay);
      }
    }
    return error_response(run.error(), rid);
  }
  auto r = json_response(201, run_json(*run, {}), rid);
  r.headers.emplace_back("Location", "/v1/runs/" + run->id);
  return r;
}

http_response service::impl::list_runs(request_context& ctx) {
  const auto& rid = ctx.request_id;
  store::run_page_request req;
  int limit = k_default_page;
  if (auto v = query_value(ctx.query, "limit")) {
    auto n = parse_bounded_int(*v, 1, k_max_page);
    if (!n) return bad_parameter("limit", "must be an integer from 1 to 200", rid);
    limit = static_cast<int>(*n);
  }
  if (auto v = query_value(ctx.query, "cursor")) {
    // The cursor is the id of the last run of the previous page (newest first).
    if (!is_valid_id(*v, "run")) {
      return bad_parameter("cursor", "is not a cursor this server returned", rid);
    }
    req.before_id = std::string(*v);
  }
  if (auto v = query_value(ctx.query, "status")) {
    req.status = store::parse_run_status(*v);
    if (!req.status) {
      return bad_parameter(
          "status", "must be one of queued, running, awaiting_input, completed, failed, cancelled",
          rid);
    }
  }
  if (!ctx.who->admin) req.owner_key_id = ctx.who->key_id;
  req.limit = limit + 1;  // one more tells whether there is a next page
  auto runs = deps.store.list_runs(req);
  if (!runs) return error_response(runs.error(), rid);
  json next_cursor = nullptr;
  if (runs->size() > static_cast<std::size_t>(limit)) {
    runs->resize(static_cast<std::size_t>(limit));
    next_cursor = runs->back().id;
  }
  json data = json::array();
  for (const auto& r : *runs) data.push_back(run_json(r));
  return json_response(200, {{"data", std::move(data)}, {"next_cursor", std::move(next_cursor)}},
                       rid);
}

http_response service::impl::get_run(request_context& ctx) {
  auto run = accessible_run(ctx);
  if (!run) return std::move(run.error());
  auto steps = deps.store.list_steps(run->id);
  if (!steps) return error_response(steps.error(), ctx.request_id);
  return json_response(200, run_json(*run, *steps), ctx.request_id);
}

http_response service::impl::cancel_run(request_context& ctx) {
  auto run = accessible_run(ctx);
  if (!run) return std::move(run.error());
  const std::string reason = ctx.body.is_object() ? ctx.body.value("reason", "") : "";
  if (auto r = deps.engine.cancel_run(run->id, reason); !r) {
    return error_response(r.error(), ctx.request_id);
  }
  return current_run(deps.store, ctx);
}

http_response service::impl::approve_run(request_context& ctx) {
  auto run = accessible_run(ctx);
  if (!run) return std::move(run.error());
  engine::approval decision;
  decision.approve = ctx.body.at("approve").get<bool>();
  if (ctx.body.contains("plan")) decision.plan = ctx.body.at("plan");
  decision.reason = ctx.body.value("reason", "");
  if (auto r = deps.engine.approve_run(run->id, decision); !r) {
    return error_response(r.error(), ctx.request_id);
  }
  return current_run(deps.store, ctx);
}

}  // namespace grok::api
