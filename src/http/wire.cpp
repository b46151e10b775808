#include "http/wire.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "api/problem.h"

namespace grok::http {

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
