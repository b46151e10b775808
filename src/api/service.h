// The HTTP API's routes (SPEC §3) behind one call: handle() takes a plain request and
// returns a plain response (or a stream session), so that the routing, auth, validation
// and handlers are tested and fuzzed without sockets, and the transport (http/) stays the
// only place that knows Beast.
//
// handle() never throws: the route wrapper turns exceptions into 500 problem+json. Every
// response carries X-Request-Id (the client's, when it sent a well-formed one, else a new
// one). Thread-safety: handle() may be called from many threads at once.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/http_types.h"
#include "api/rate_limiter.h"
#include "api/stream_hub.h"
#include "api/ui_assets.h"
#include "core/clock.h"
#include "core/config.h"
#include "engine/engine.h"
#include "store/store.h"

namespace grok::api {

// /readyz: each check is {"name", "ok", "detail"}; ready when every required one is ok.
struct readiness_check {
  std::string name;
  bool ok = true;
  bool required = true;  // a degraded rate limiter is reported but does not fail readiness
  std::string detail;
};
using readiness_probe = std::function<std::vector<readiness_check>()>;

struct service_options {
  std::vector<std::string> cors_origins;  // exact Origin values, or "*"
  std::string signing_secret;             // empty: signing off
  std::size_t max_body_bytes = 1024 * 1024;
  // The limiter's settings, for the RateLimit-Limit header (= burst).
  rate_limit_config rate_limit;
  // The web UI's files, served at every path that is not the API's (api/ui_route.h).
  // Null: the UI is off and those paths answer 404 problem+json like any unknown path; an
  // empty table: they answer a page saying how to build the UI.
  std::shared_ptr<const ui_assets> ui;
};

struct service_deps {
  store::store& store;
  engine::engine& engine;
  stream_hub& hub;
  rate_limiter& limiter;
  const grok::clock& clock;   // qualified: a plain `clock` here would change its meaning
  readiness_probe readiness;  // may be empty: only the database is checked
};

class service {
 public:
  service(service_deps deps, service_options options);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  [[nodiscard]] http_response handle(http_request& request) noexcept;

  // Every (method, path template) the router answers, e.g. {"GET", "/v1/runs/{id}"}:
  // the test compares it with /openapi.json.
  [[nodiscard]] static std::vector<std::pair<std::string, std::string>> routes();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace grok::api
