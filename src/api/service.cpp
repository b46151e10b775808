// The request pipeline of the HTTP API: request id, the web UI's paths (api/ui_route.h),
// CORS preflight, routing, query, auth, rate limit, scope, signing and body checks, in that
// order, then the route's handler (routes_*.cpp); and the one place that turns an exception
// into a 500.
#include "api/service.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "api/problem.h"
#include "api/service_impl.h"
#include "api/signing.h"
#include "api/ui_route.h"
#include "obs/log_context.h"

namespace grok::api {

using json = nlohmann::json;

namespace {

constexpr std::size_t k_max_request_id = 128;

// A client's X-Request-Id is kept when it is 1 to 128 characters of [A-Za-z0-9._-].
bool acceptable_request_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > k_max_request_id) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Whole seconds, rounded up.
std::int64_t ceil_seconds(std::chrono::milliseconds d) noexcept {
  return d.count() <= 0 ? 0 : (d.count() + 999) / 1000;
}

std::optional<body_kind> body_of(route_id id) noexcept {
  switch (id) {
    case route_id::create_run:
      return body_kind::create_run;
    case route_id::cancel_run:
      return body_kind::cancel_run;
    case route_id::approve_run:
      return body_kind::approve_run;
    default:
      return std::nullopt;
  }
}

http_response unauthorized(std::string_view detail, std::string_view request_id) {
  auto r = problem_response(401, detail, request_id);
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"grok\"");
  return r;
}

request_schemas load_schemas() {
  auto s = request_schemas::load();
  // The schemas are built into the binary: failing here is a build error, not a user's.
  if (!s) throw std::logic_error("api::service: " + s.error().message);
  return std::move(*s);
}

}  // namespace

http_response json_response(int status, const json& body, std::string_view request_id) {
  http_response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::string(k_json_content_type));
  r.headers.emplace_back("X-Request-Id", std::string(request_id));
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

http_response error_response(const error& e, std::string_view request_id) {
  const int status = http_status_for(e.code);
  if (status >= 500) {
    spdlog::error("request {}: {}", request_id, describe(e));
    return problem_response(status,
                            status == 503 ? "the server is busy or a dependency is unavailable; "
                                            "retry later"
                                          : "the server could not complete the request",
                            request_id);
  }
  return problem_response(status, e.message, request_id);
}

http_response bad_parameter(std::string_view name, std::string_view why,
                            std::string_view request_id) {
  return problem_response(400, std::string(name) + ": " + std::string(why), request_id);
}

service::impl::impl(service_deps d, service_options o)
    : deps(std::move(d)),
      options(std::move(o)),
      cors(options.cors_origins),
      schemas(load_schemas()) {}

service::service(service_deps deps, service_options options)
    : impl_(std::make_unique<impl>(std::move(deps), std::move(options))) {}

service::~service() = default;

std::vector<std::pair<std::string, std::string>> service::routes() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : route_table()) out.emplace_back(r.method, r.path);
  return out;
}

http_response service::impl::process(request_context& ctx, std::string_view& route_label) {
  const auto& req = ctx.request;
  const auto& rid = ctx.request_id;
  const auto path = target_path(req.target);

  // The web UI: every path that is not the API's; no key, no rate limit, one metrics label.
  if (options.ui && !is_api_path(path)) {
    route_label = k_ui_route_label;
    return serve_ui(*options.ui, req, rid);
  }

  const bool preflight = cors_policy::is_preflight(req);
  if (preflight && !cors.allows(*req.header("Origin"))) {
    return problem_response(403, "this origin is not allowed by the server's CORS policy", rid);
  }
  // A preflight asks about the path, whatever its methods: match it with no method.
  auto m = match_route(preflight ? std::string_view() : std::string_view(req.method), path);
  if (m.kind == route_match::outcome::not_found) {
    return problem_response(404, "no such resource: " + std::string(path.substr(0, 200)), rid);
  }
  route_label = m.route->path;
  if (preflight) {
    http_response r;
    r.status = 204;
    r.headers.emplace_back("X-Request-Id", rid);
    cors.decorate_preflight(*req.header("Origin"), m.allow, r.headers);
    return r;
  }
  if (m.kind == route_match::outcome::wrong_method) {
    if (req.method == "OPTIONS") {
      http_response r;
      r.status = 204;
      r.headers.emplace_back("X-Request-Id", rid);
      r.headers.emplace_back("Allow", m.allow + ", OPTIONS");
      return r;
    }
    auto r = problem_response(405,
                              std::string(path.substr(0, 200)) + " answers " + m.allow + ", not " +
                                  req.method.substr(0, 16),
                              rid);
    r.headers.emplace_back("Allow", m.allow);
    return r;
  }
  const auto& route = *m.route;
  ctx.route = &route;
  ctx.param = std::move(m.param);

  auto query = parse_query(target_query(req.target));
  if (!query) return problem_response(400, query.error().message, rid);
  ctx.query = std::move(*query);

  if (route.access == route_access::open) return dispatch(ctx);

  if (route.id == route_id::websocket && !req.websocket_upgrade) {
    auto r =
        problem_response(426, "GET /v1/ws is a WebSocket endpoint: send an upgrade request", rid);
    r.headers.emplace_back("Upgrade", "websocket");
    return r;
  }

  // Who is calling.
  const auto query_token = query_value(ctx.query, "access_token");
  if (!route.query_token && query_token && !req.header("Authorization")) {
    return unauthorized(
        "access_token is accepted only by GET /v1/runs/{id}/stream and GET /v1/ws; send "
        "'Authorization: Bearer <API key>'",
        rid);
  }
  auto key = presented_key(req, route.query_token ? query_token : std::nullopt);
  if (!key) return unauthorized(key.error().message, rid);
  auto who = authenticate_key(deps.store, *key);
  if (!who) {
    if (who.error().code == errc::unauthenticated) return unauthorized(who.error().message, rid);
    return error_response(who.error(), rid);
  }
  ctx.who = std::move(*who);

  ctx.rate = deps.limiter.take(ctx.who->key_id);
  if (!ctx.rate->allowed) {
    const auto wait = std::max<std::int64_t>(1, ceil_seconds(ctx.rate->retry_after));
    auto r = problem_response(
        429, "rate limit exceeded for this API key; retry in " + std::to_string(wait) + " s", rid);
    r.headers.emplace_back("Retry-After", std::to_string(wait));
    return r;
  }

  if (route.access == route_access::admin_key && !ctx.who->admin) {
    return problem_response(403, "this route needs an API key with the admin scope", rid);
  }

  if (req.method == "POST" && !options.signing_secret.empty()) {
    const signed_request s{req.header("X-Grok-Timestamp").value_or(""),
                           req.header("X-Grok-Signature").value_or(""), req.method, req.target,
                           req.body};
    if (auto ok = verify_request(options.signing_secret, s, deps.clock.now()); !ok) {
      return unauthorized(ok.error().message, rid);
    }
  }

  if (req.body.size() > options.max_body_bytes) {
    return problem_response(
        413, "the request body is larger than " + std::to_string(options.max_body_bytes) + " bytes",
        rid);
  }
  if (const auto kind = body_of(route.id)) {
    const bool required = *kind != body_kind::cancel_run;
    auto body = read_json_body(req, options.max_body_bytes, required);
    if (!body) return problem_response(body.error().status, body.error().detail, rid);
    if (!body->is_null()) {
      if (auto valid = schemas.validate(*kind, *body); !valid) {
        return problem_response(400, valid.error().message, rid);
      }
    }
    ctx.body = std::move(*body);
  }
  return dispatch(ctx);
}

http_response service::impl::dispatch(request_context& ctx) {
  switch (ctx.route->id) {
    case route_id::healthz:
      return healthz(ctx);
    case route_id::readyz:
      return readyz(ctx);
    case route_id::metrics:
      return metrics_text(ctx);
    case route_id::openapi:
      return openapi(ctx);
    case route_id::create_run:
      return create_run(ctx);
    case route_id::list_runs:
      return list_runs(ctx);
    case route_id::get_run:
      return get_run(ctx);
    case route_id::run_events:
      return run_events(ctx);
    case route_id::run_stream:
      return run_stream(ctx);
    case route_id::cancel_run:
      return cancel_run(ctx);
    case route_id::approve_run:
      return approve_run(ctx);
    case route_id::websocket:
      return websocket(ctx);
    case route_id::list_tools:
      return list_tools(ctx);
    case route_id::queue_stats:
      return queue_stats(ctx);
    case route_id::queue_dead:
      return queue_dead(ctx);
    case route_id::retry_dead:
      return retry_dead(ctx);
  }
  throw std::logic_error("api::service: a route without a handler");
}

tl::expected<store::run_record, http_response> service::impl::accessible_run(request_context& ctx) {
  auto run = deps.store.get_run(ctx.param);
  if (!run) return tl::unexpected(error_response(run.error(), ctx.request_id));
  if (!*run) return tl::unexpected(problem_response(404, "no run " + ctx.param, ctx.request_id));
  if (!may_access(*ctx.who, **run)) {
    return tl::unexpected(
        problem_response(403, "run " + ctx.param + " belongs to another API key", ctx.request_id));
  }
  return std::move(**run);
}

void service::impl::finish(const request_context& ctx, http_response& r) const {
  if (!find_header(r.headers, "X-Request-Id"))
    r.headers.emplace_back("X-Request-Id", ctx.request_id);
  if (ctx.rate) {
    r.headers.emplace_back("RateLimit-Limit",
                           std::to_string(static_cast<std::int64_t>(options.rate_limit.burst)));
    r.headers.emplace_back(
        "RateLimit-Remaining",
        std::to_string(static_cast<std::int64_t>(std::max(0.0, ctx.rate->remaining))));
    r.headers.emplace_back("RateLimit-Reset", std::to_string(ceil_seconds(ctx.rate->reset)));
  }
  cors.decorate(ctx.request, r.headers);
}

http_response service::handle(http_request& request) noexcept {
  const auto started = std::chrono::steady_clock::now();
  std::string_view route_label = "unmatched";
  http_response response;
  try {
    const auto sent = request.header("X-Request-Id");
    request_context ctx{
        request, sent && acceptable_request_id(*sent) ? std::string(*sent) : new_request_id()};
    const obs::log_scope log_request({.request_id = ctx.request_id});
    try {
      response = impl_->process(ctx, route_label);
    } catch (const std::exception& e) {
      // The target is not logged: it may carry an access_token.
      spdlog::error("request {} ({} {}): {}", ctx.request_id, request.method.substr(0, 16),
                    route_label, e.what());
      response = problem_response(500, "the server could not complete the request", ctx.request_id);
    }
    impl_->finish(ctx, response);
    spdlog::debug("request {}: {} {} -> {}", ctx.request_id, request.method.substr(0, 16),
                  route_label, response.status);
  } catch (...) {
    // Building even the error failed (out of memory): answer with the bare minimum.
    response = http_response{};
    response.status = 500;
  }
  try {
    impl_->metrics.observe(route_label, response.status,
                           std::chrono::steady_clock::now() - started);
  } catch (...) {  // a metric lost to an allocation failure is not worth failing a request for
  }
  return response;
}

}  // namespace grok::api
