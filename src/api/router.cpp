#include "api/router.h"

#include <array>
#include <limits>

#include "core/ids.h"

namespace grok::api {
namespace {

using enum route_id;
using access = route_access;

constexpr std::array k_routes = {
    route_spec{healthz, "GET", "/healthz"},
    route_spec{readyz, "GET", "/readyz"},
    route_spec{metrics, "GET", "/metrics"},
    route_spec{openapi, "GET", "/openapi.json"},
    route_spec{create_run, "POST", "/v1/runs", access::any_key},
    route_spec{list_runs, "GET", "/v1/runs", access::any_key},
    route_spec{get_run, "GET", "/v1/runs/{id}", access::any_key, path_param::run_id},
    route_spec{run_events, "GET", "/v1/runs/{id}/events", access::any_key, path_param::run_id},
    route_spec{run_stream, "GET", "/v1/runs/{id}/stream", access::any_key, path_param::run_id,
               true},
    route_spec{cancel_run, "POST", "/v1/runs/{id}/cancel", access::any_key, path_param::run_id},
    route_spec{approve_run, "POST", "/v1/runs/{id}/approve", access::any_key, path_param::run_id},
    route_spec{websocket, "GET", "/v1/ws", access::any_key, path_param::none, true},
    route_spec{list_tools, "GET", "/v1/tools", access::any_key},
    route_spec{queue_stats, "GET", "/v1/queue", access::admin_key},
    route_spec{queue_dead, "GET", "/v1/queue/dead", access::admin_key},
    route_spec{retry_dead, "POST", "/v1/queue/dead/{id}/retry", access::admin_key,
               path_param::job_id},
};

constexpr std::string_view k_param_segment = "{id}";

// The '/'-separated segments after the leading '/' ("/v1/runs/" → "v1", "runs", "").
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);
  while (true) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    path.remove_prefix(slash + 1);
  }
}

bool valid_param(path_param kind, std::string_view value) {
  switch (kind) {
    case path_param::run_id:
      return is_valid_id(value, "run");
    case path_param::job_id:
      return parse_bounded_int(value, 1, std::numeric_limits<std::int64_t>::max()).has_value();
    case path_param::none:
      return false;
  }
  return false;
}

// Whether `have` fits the route's template; on a fit with a parameter, `param` holds its
// value and `param_ok` says whether it is a valid id of its kind.
bool fits(const route_spec& r, const std::vector<std::string_view>& have, std::string& param,
          bool& param_ok) {
  const auto want = split_path(r.path);
  if (want.size() != have.size()) return false;
  param_ok = true;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i] == k_param_segment) {
      if (have[i].empty()) return false;
      param = std::string(have[i]);
      param_ok = valid_param(r.param, have[i]);
    } else if (want[i] != have[i]) {
      return false;
    }
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::span<const route_spec> route_table() noexcept { return k_routes; }

route_match match_route(std::string_view method, std::string_view path) {
  route_match m;
  if (path.empty() || path[0] != '/') return m;
  const auto have = split_path(path);
  for (const auto& r : k_routes) {
    std::string param;
    bool param_ok = true;
    if (!fits(r, have, param, param_ok) || !param_ok) continue;
    if (r.method == method) {
      m.kind = route_match::outcome::matched;
      m.route = &r;
      m.param = std::move(param);
      m.allow.clear();
      return m;
    }
    m.kind = route_match::outcome::wrong_method;
    if (m.route == nullptr) m.route = &r;
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += r.method;
  }
  return m;
}

std::string_view target_path(std::string_view target) noexcept {
  return target.substr(0, target.find('?'));
}

std::string_view target_query(std::string_view target) noexcept {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  auto query = target.substr(q + 1);
  return query.substr(0, query.find('#'));
}

result<query_params> parse_query(std::string_view query) {
  if (query.size() > k_max_query_bytes) {
    return fail(errc::invalid_argument,
                "the query string is longer than " + std::to_string(k_max_query_bytes) + " bytes");
  }
  query_params out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    if (out.size() == k_max_query_params) {
      return fail(errc::invalid_argument, "the query string has more than " +
                                              std::to_string(k_max_query_params) + " parameters");
    }
    const auto eq = part.find('=');
    auto name = percent_decode(part.substr(0, eq));
    if (!name) return fail(errc::invalid_argument, "the query string has a broken %-escape");
    auto value =
        percent_decode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
    if (!value) {
      return fail(errc::invalid_argument, name->substr(0, 64) + ": broken %-escape in the value");
    }
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

std::optional<std::string_view> query_value(const query_params& q, std::string_view name) noexcept {
  for (const auto& [k, v] : q) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::int64_t> parse_bounded_int(std::string_view text, std::int64_t lo,
                                              std::int64_t hi) noexcept {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
  const auto i = static_cast<std::int64_t>(v);
  if (i < lo || i > hi) return std::nullopt;
  return i;
}

}  // namespace grok::api
