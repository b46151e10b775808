#include "api/cors.h"

#include <algorithm>

namespace grok::api {

cors_policy::cors_policy(std::vector<std::string> origins) : origins_(std::move(origins)) {
  any_ = std::find(origins_.begin(), origins_.end(), "*") != origins_.end();
}

bool cors_policy::allows(std::string_view origin) const noexcept {
  // "null" (sandboxed frames, file://) is never trusted, not even by "*".
  if (origin.empty() || origin == "null") return false;
  return any_ || std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

bool cors_policy::is_preflight(const http_request& request) noexcept {
  return request.method == "OPTIONS" && request.header("Origin").has_value() &&
         request.header("Access-Control-Request-Method").has_value();
}

void cors_policy::decorate(const http_request& request, header_list& headers) const {
  const auto origin = request.header("Origin");
  if (!origin || !allows(*origin)) return;
  headers.emplace_back("Access-Control-Allow-Origin", std::string(*origin));
  headers.emplace_back("Vary", "Origin");
  headers.emplace_back("Access-Control-Expose-Headers", std::string(k_cors_expose_headers));
}

void cors_policy::decorate_preflight(std::string_view origin, std::string_view methods,
                                     header_list& headers) const {
  headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  headers.emplace_back("Vary", "Origin");
  headers.emplace_back("Access-Control-Allow-Methods", std::string(methods));
  headers.emplace_back("Access-Control-Allow-Headers", std::string(k_cors_allow_headers));
  headers.emplace_back("Access-Control-Max-Age", std::to_string(k_cors_max_age_s));
}

}  // namespace grok::api
