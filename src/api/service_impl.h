// Inside api::service (not for other components): the state the route handlers share and
// the per-request context that the pipeline in service.cpp fills in (route, query, caller,
// body) before a handler in routes_*.cpp runs.
// Thread-safety: service::impl is immutable after construction except http_metrics (its own
// mutex); a request_context belongs to one handle() call.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "api/auth.h"
#include "api/cors.h"
#include "api/http_metrics.h"
#include "api/request_schemas.h"
#include "api/router.h"
#include "api/service.h"

namespace grok::api {

struct request_context {
  http_request& request;
  std::string request_id;
  const route_spec* route = nullptr;
  std::string param;  // the validated {id} path segment
  query_params query;
  std::optional<principal> who;       // set on /v1 routes once authenticated
  std::optional<rate_decision> rate;  // set once the rate limiter was asked
  nlohmann::json body;                // the validated JSON body of a write route (or null)
};

// A JSON response with X-Request-Id. Invalid UTF-8 in strings (tool output) is replaced.
[[nodiscard]] http_response json_response(int status, const nlohmann::json& body,
                                          std::string_view request_id);

// A problem+json response for an error of a lower layer: its status from the errc table;
// 5xx details are generic (the error is logged with the request id).
[[nodiscard]] http_response error_response(const error& e, std::string_view request_id);

// A 400 problem naming a query parameter: "<name>: <why>".
[[nodiscard]] http_response bad_parameter(std::string_view name, std::string_view why,
                                          std::string_view request_id);

struct service::impl {
  impl(service_deps d, service_options o);

  service_deps deps;
  service_options options;
  cors_policy cors;
  request_schemas schemas;
  http_metrics metrics;

  // The pipeline (service.cpp): CORS preflight, routing, query, auth, rate limit, scope,
  // signing, body; then dispatch. `route_label` is set for metrics as soon as it is known.
  http_response process(request_context& ctx, std::string_view& route_label);
  http_response dispatch(request_context& ctx);
  // Headers every response gets once its handler is done: X-Request-Id, RateLimit-* (once
  // the limiter was asked) and CORS.
  void finish(const request_context& ctx, http_response& r) const;

  // Reads the run of ctx.param that the caller may access: 404 or 403 problem otherwise.
  tl::expected<store::run_record, http_response> accessible_run(request_context& ctx);

  // routes_runs.cpp
  http_response create_run(request_context& ctx);
  http_response list_runs(request_context& ctx);
  http_response get_run(request_context& ctx);
  http_response cancel_run(request_context& ctx);
  http_response approve_run(request_context& ctx);
  // routes_streams.cpp
  http_response run_events(request_context& ctx);
  http_response run_stream(request_context& ctx);
  http_response websocket(request_context& ctx);
  // routes_admin.cpp
  http_response list_tools(request_context& ctx);
  http_response queue_stats(request_context& ctx);
  http_response queue_dead(request_context& ctx);
  http_response retry_dead(request_context& ctx);
  // routes_system.cpp
  http_response healthz(request_context& ctx);
  http_response readyz(request_context& ctx);
  http_response metrics_text(request_context& ctx);
  http_response openapi(request_context& ctx);
};

}  // namespace grok::api
