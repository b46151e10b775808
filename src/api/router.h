// The HTTP API's route table and the matching of a request against it: a method and a path
// against templates such as "/v1/runs/{id}", with the {id} segment validated (run ids are
// "run_" + 26 id characters, job ids positive integers; anything else is no route), and the
// query string parsed with percent-decoding.
//
// The table is the one list of what the API answers: service::routes() and the route
// metadata (who may call it, whether the key may come in the query string) both come from
// it, and a test compares it with /openapi.json.
// Thread-safety: the table is immutable; every function is pure.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace grok::api {

enum class route_id {
  healthz,
  readyz,
  metrics,
  openapi,
  create_run,
  list_runs,
  get_run,
  run_events,
  run_stream,
  cancel_run,
  approve_run,
  websocket,
  list_tools,
  queue_stats,
  queue_dead,
  retry_dead,
};

// Who may call a route.
enum class route_access {
  open,      // no key (health, metrics, the OpenAPI document)
  any_key,   // a runs or an admin key
  admin_key  // an admin key only
};

// What the {id} segment of a template must be.
enum class path_param { none, run_id, job_id };

struct route_spec {
  route_id id;
  std::string_view method;
  std::string_view path;  // template, e.g. "/v1/runs/{id}"
  route_access access = route_access::open;
  path_param param = path_param::none;
  // The key may come as ?access_token= (EventSource and browser WebSocket cannot set
  // headers): the two streaming routes only.
  bool query_token = false;
};

// Every route, in a stable order.
[[nodiscard]] std::span<const route_spec> route_table() noexcept;

struct route_match {
  enum class outcome { matched, wrong_method, not_found };
  outcome kind = outcome::not_found;
  const route_spec* route = nullptr;  // matched: the route; wrong_method: one of the path's
  std::string param;                  // matched: the validated {id} segment, if any
  std::string allow;                  // wrong_method: the path's methods, "GET, POST"
};

// Matches `path` (no query) for `method`. A path whose {id} segment is not a valid id of its
// kind does not match any route (not_found).
[[nodiscard]] route_match match_route(std::string_view method, std::string_view path);

// The path and the query (without '?') of a request target.
[[nodiscard]] std::string_view target_path(std::string_view target) noexcept;
[[nodiscard]] std::string_view target_query(std::string_view target) noexcept;

inline constexpr std::size_t k_max_query_bytes = 4096;
inline constexpr std::size_t k_max_query_params = 32;

// name → value pairs in the order sent, percent-decoded ('+' is a space).
using query_params = std::vector<std::pair<std::string, std::string>>;

// Parses a query string. errc::invalid_argument for more than k_max_query_bytes bytes or
// k_max_query_params parameters, or a broken percent-escape (the detail names the
// parameter).
[[nodiscard]] result<query_params> parse_query(std::string_view query);

// The first value of `name`, if present.
[[nodiscard]] std::optional<std::string_view> query_value(const query_params& q,
                                                          std::string_view name) noexcept;

// A decimal integer from lo to hi (no sign, no spaces, no leading '+'); empty otherwise.
[[nodiscard]] std::optional<std::int64_t> parse_bounded_int(std::string_view text, std::int64_t lo,
                                                            std::int64_t hi) noexcept;

}  // namespace grok::api
