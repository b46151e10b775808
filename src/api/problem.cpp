#include "api/problem.h"

#include <cctype>

#include "core/clock.h"
#include "core/ids.h"

namespace grok::api {

std::optional<std::string_view> find_header(const header_list& headers,
                                            std::string_view name) noexcept {
  for (const auto& [k, v] : headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < k.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(k[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) return std::string_view(v);
  }
  return std::nullopt;
}

int http_status_for(errc code) noexcept {
  switch (code) {
    case errc::invalid_argument:
      return 400;
    case errc::unauthenticated:
      return 401;
    case errc::not_found:
      return 404;
    case errc::conflict:
    case errc::already_exists:
    case errc::cancelled:
      return 409;
    case errc::busy:
    case errc::unavailable:
      return 503;
    case errc::timeout:
      return 504;
    case errc::unsupported:
      return 501;
    case errc::io:
    case errc::corrupt:
    case errc::internal:
      return 500;
  }
  return 500;
}

std::string_view status_title(int status) noexcept {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Error";
  }
}

nlohmann::json problem_json(int status, std::string_view detail, std::string_view request_id) {
  std::string slug;
  for (char c : status_title(status)) {
    slug += c == ' ' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return {{"type", "https://grok.dev/problems/" + slug},
          {"title", std::string(status_title(status))},
          {"status", status},
          {"detail", std::string(detail)},
          {"request_id", std::string(request_id)}};
}

http_response problem_response(int status, std::string_view detail, std::string_view request_id) {
  http_response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::string(k_problem_content_type));
  r.headers.emplace_back("X-Request-Id", std::string(request_id));
  // Details can carry user text; replace invalid UTF-8 rather than throw.
  r.body = problem_json(status, detail, request_id)
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

std::string new_request_id() { return new_id("req", system_clock{}.now()); }

}  // namespace grok::api
