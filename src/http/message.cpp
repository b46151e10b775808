#include "http/message.h"

#include <spdlog/spdlog.h>

#include <array>
#include <utility>

#include "api/problem.h"

namespace grok::http {
namespace {

bool is_transport_header(std::string_view name) {
  static constexpr std::array<std::string_view, 7> k_owned = {
      "content-length", "transfer-encoding", "connection", "upgrade", "keep-alive", "te",
      "trailer"};
  for (auto owned : k_owned) {
    if (beast::iequals(name, owned)) return true;
  }
  return false;
}

bool splits_message(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool has_no_body(int status) { return status < 200 || status == 204 || status == 304; }

}  // namespace

api::http_request to_api_request(beast_request& req, const std::string& remote) {
  api::http_request out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  for (const auto& field : req) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out.websocket_upgrade = websocket::is_upgrade(req);
  out.body = std::move(req.body());
  req.body().clear();
  out.remote = remote;
  return out;
}

void apply_headers(bhttp::fields& fields, const api::header_list& headers) {
  for (const auto& [name, value] : headers) {
    if (name.empty() || splits_message(name) || splits_message(value)) {
      spdlog::warn("http: dropping an invalid response header '{}'", name);
      continue;
    }
    if (is_transport_header(name)) continue;
    fields.insert(name, value);
  }
}

void set_status(bhttp::response_header<>& head, int status) {
  if (status < 100 || status > 599) {
    spdlog::error("http: handler returned status {}; sending 500", status);
    status = 500;
  }
  head.result(static_cast<unsigned>(status));
  if (bhttp::int_to_status(static_cast<unsigned>(status)) == bhttp::status::unknown) {
    head.reason(api::status_title(status));
  }
}

bhttp::response<bhttp::string_body> to_beast_response(api::http_response res, unsigned version,
                                                      bool keep_alive, bool head_only) {
  bhttp::response<bhttp::string_body> out;
  out.version(version);
  set_status(out, res.status);
  apply_headers(out, res.headers);
  if (out.find(bhttp::field::server) == out.end()) out.set(bhttp::field::server, "grok");
  if (has_no_body(out.result_int())) {
    res.body.clear();
  }
  out.body() = std::move(res.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  if (head_only) out.body().clear();  // Content-Length stays that of the full body
  return out;
}

}  // namespace grok::http
