#include "http/wire.h"

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

net::awaitable<bool> write_problem(beast::tcp_stream& stream, int status, std::string_view detail,
                                   unsigned version, std::chrono::milliseconds write_timeout) {
  auto res = to_beast_response(api::problem_response(status, detail, api::new_request_id()),
                               version, false, false);
  stream.expires_after(write_timeout);
  auto [ec, n] = co_await bhttp::async_write(stream, res, k_use_tuple);
  co_return !ec;
}

net::awaitable<void> close_gracefully(beast::tcp_stream& stream, std::chrono::milliseconds linger) {
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (!ec) {
    std::array<char, 4096> scratch{};
    std::size_t budget = k_linger_bytes;
    stream.expires_after(linger);
    while (budget > 0) {
      auto [read_ec, n] = co_await stream.async_read_some(net::buffer(scratch), k_use_tuple);
      if (read_ec) break;
      budget -= std::min(budget, n);
    }
  }
  stream.socket().close(ec);
}

std::string format_endpoint(const tcp::endpoint& ep) {
  const auto address = ep.address();
  const auto port = std::to_string(ep.port());
  if (address.is_v6()) return "[" + address.to_string() + "]:" + port;
  return address.to_string() + ":" + port;
}

void log_exception(std::string_view where, const std::exception_ptr& e) noexcept {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("http: {} failed: {}", where, ex.what());
  } catch (...) {
    spdlog::error("http: {} failed with an unknown exception", where);
  }
}

}  // namespace grok::http
