// Routes without a key (SPEC §3, §7): GET /healthz (the process answers), GET /readyz (the
// database and the configured dependencies), GET /metrics (Prometheus text) and GET
// /openapi.json (the embedded OpenAPI 3.1 document).
#include "api/problem.h"
#include "api/service_impl.h"
#include "core/embedded_files.h"
#include "obs/metrics.h"

namespace grok::api {

using json = nlohmann::json;

namespace {

constexpr std::string_view k_openapi_file = "schemas/openapi.json";

// A cheap read: a primary-key lookup that finds nothing.
readiness_check database_check(store::store& st) {
  auto r = st.get_run("run_00000000000000000000000000");
  if (!r) return {"database", false, true, describe(r.error())};
  return {"database", true, true, "ok"};
}

}  // namespace

http_response service::impl::healthz(request_context& ctx) {
  return json_response(200, {{"status", "ok"}}, ctx.request_id);
}

http_response service::impl::readyz(request_context& ctx) {
  std::vector<readiness_check> checks{database_check(deps.store)};
  if (deps.readiness) {
    for (auto& c : deps.readiness()) checks.push_back(std::move(c));
  }
  const auto limiter = deps.limiter.health();
  checks.push_back({"rate_limiter", !limiter.degraded, false,
                    limiter.backend + (limiter.detail.empty() ? "" : ": " + limiter.detail)});
  bool ready = true;
  json list = json::array();
  for (const auto& c : checks) {
    if (c.required && !c.ok) ready = false;
    list.push_back(
        {{"name", c.name}, {"ok", c.ok}, {"required", c.required}, {"detail", c.detail}});
  }
  return json_response(ready ? 200 : 503, {{"ready", ready}, {"checks", std::move(list)}},
                       ctx.request_id);
}

http_response service::impl::metrics_text(request_context& ctx) {
  const auto streams = deps.hub.current_stats();
  http_response r;
  r.status = 200;
  r.headers.emplace_back("Content-Type", std::string(k_prometheus_content_type));
  r.headers.emplace_back("X-Request-Id", ctx.request_id);
  metrics.set_open_streams(streams.open_sse, streams.open_websocket);
  r.body = obs::metrics().render();
  return r;
}

http_response service::impl::openapi(request_context& ctx) {
  const auto doc = embedded_file(k_openapi_file);
  if (!doc) throw std::logic_error("schemas/openapi.json is not built into the binary");
  http_response r;
  r.status = 200;
  r.headers.emplace_back("Content-Type", std::string(k_json_content_type));
  r.headers.emplace_back("X-Request-Id", ctx.request_id);
  r.body = std::string(*doc);
  return r;
}

}  // namespace grok::api
