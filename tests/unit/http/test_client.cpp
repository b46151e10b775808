#include "unit/http/test_client.h"

#include <nlohmann/json.hpp>

#include <array>
#include <thread>

#include "api/problem.h"

namespace grok::http::testing {

bool client_io::pump(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    // The work guard keeps run_one_for waiting (rather than returning at once) when no
    // client operation is pending yet.
    ctx_.run_one_for(std::min<std::chrono::steady_clock::duration>(deadline - now, 20ms));
  }
  return true;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);  // polling a condition, not timing an event
  }
  return true;
}

net::awaitable<tcp::socket> connect_to(std::uint16_t port) {
  tcp::socket socket(co_await net::this_coro::executor);
  co_await socket.async_connect({net::ip::address_v4::loopback(), port}, net::use_awaitable);
  co_return socket;
}

net::awaitable<void> write_text(tcp::socket& socket, std::string bytes) {
  co_await net::async_write(socket, net::buffer(bytes), net::use_awaitable);
}

net::awaitable<std::string> read_to_end(tcp::socket& socket) {
  std::string out;
  std::array<char, 4096> chunk{};
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(net::buffer(chunk), k_use_tuple);
    out.append(chunk.data(), n);
    if (ec) break;
    if (out.size() > 16 * 1024 * 1024) throw std::runtime_error("response too large");
  }
  co_return out;
}

net::awaitable<bool> read_until_seen(tcp::socket& socket, std::string& seen,
                                     std::string_view needle) {
  std::array<char, 4096> chunk{};
  while (seen.find(needle) == std::string::npos) {
    auto [ec, n] = co_await socket.async_read_some(net::buffer(chunk), k_use_tuple);
    seen.append(chunk.data(), n);
    if (ec) co_return seen.find(needle) != std::string::npos;
  }
  co_return true;
}

string_request make_request(bhttp::verb method, std::string target, std::string body) {
  string_request req{method, target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  if (!body.empty() || method == bhttp::verb::post) {
    req.body() = std::move(body);
    req.prepare_payload();
  }
  return req;
}

net::awaitable<string_response> exchange(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                         string_request req) {
  co_await bhttp::async_write(stream, req, net::use_awaitable);
  string_response res;
  co_await bhttp::async_read(stream, buffer, res, net::use_awaitable);
  co_return res;
}

net::awaitable<std::string> raw_exchange(std::uint16_t port, std::string bytes) {
  auto socket = co_await connect_to(port);
  co_await write_text(socket, std::move(bytes));
  co_return co_await read_to_end(socket);
}

string_response parse_response(const std::string& raw) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.eager(true);
  beast::error_code ec;
  parser.put(net::buffer(raw), ec);
  if (ec && ec != bhttp::error::need_more) {
    throw std::runtime_error("unparsable response (" + ec.message() + "): " + raw);
  }
  if (!parser.is_done()) parser.put_eof(ec);
  if (!parser.is_header_done()) throw std::runtime_error("incomplete response: " + raw);
  return parser.release();
}

net::awaitable<sse_stream> open_sse(std::uint16_t port, std::string target) {
  // (GCC 12 mishandles co_await inside a braced initializer.)
  auto socket = co_await connect_to(port);
  sse_stream out{std::move(socket), {}, {}};
  co_await write_text(out.socket, "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  co_await bhttp::async_read_header(out.socket, buffer, parser, net::use_awaitable);
  out.head = parser.get();
  out.body = beast::buffers_to_string(buffer.data());
  co_return out;
}

net::awaitable<std::unique_ptr<ws_client>> open_ws(std::uint16_t port, std::string target,
                                                   websocket::response_type& res,
                                                   beast::error_code& ec) {
  auto ws = std::make_unique<ws_client>(co_await connect_to(port));
  auto [handshake_ec] = co_await ws->async_handshake(res, "127.0.0.1", target, k_use_tuple);
  ec = handshake_ec;
  co_return ws;
}

net::awaitable<ws_message> read_ws(ws_client& ws) {
  beast::flat_buffer buffer;
  auto [ec, n] = co_await ws.async_read(buffer, k_use_tuple);
  co_return ws_message{ec, beast::buffers_to_string(buffer.data())};
}

net::awaitable<std::vector<std::string>> read_ws_until_closed(ws_client& ws) {
  std::vector<std::string> out;
  for (;;) {
    auto message = co_await read_ws(ws);
    if (message.ec) co_return out;
    out.push_back(std::move(message.text));
  }
}

net::awaitable<bool> wait_refused(std::uint16_t port, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  auto executor = co_await net::this_coro::executor;
  while (std::chrono::steady_clock::now() < deadline) {
    tcp::socket socket(executor);
    auto [ec] = co_await socket.async_connect({net::ip::address_v4::loopback(), port}, k_use_tuple);
    if (ec == net::error::connection_refused) co_return true;
    net::steady_timer pause(executor, 10ms);  // retrying until the listener is gone
    co_await pause.async_wait(net::use_awaitable);
  }
  co_return false;
}

// ---- toy_session ----

void toy_session::set_waker(std::function<void()> waker) {
  std::lock_guard lock(mutex_);
  waker_ = std::move(waker);
}

api::stream_batch toy_session::next_batch() {
  std::lock_guard lock(mutex_);
  api::stream_batch batch;
  batch.messages.swap(pending_);
  if (close_ && !close_sent_) {
    batch.close = close_;
    close_sent_ = true;
  }
  return batch;
}

void toy_session::on_message(std::string_view text) {
  std::lock_guard lock(mutex_);
  received_.emplace_back(text);
  if (text == "slow") {
    close_ = api::close_reason{1008, "slow consumer"};
  } else {
    pending_.push_back(std::make_shared<const std::string>("echo:" + std::string(text)));
  }
}

std::string toy_session::heartbeat() const {
  return kind_ == api::stream_kind::sse ? ": hb\n\n" : "";
}

void toy_session::shutdown() {
  std::lock_guard lock(mutex_);
  ++shutdown_calls_;
  if (ignore_shutdown_) return;
  pending_.push_back(std::make_shared<const std::string>(
      kind_ == api::stream_kind::sse ? "data: bye\n\n" : "bye"));
  close_ = api::close_reason{1001, "server shutting down"};
}

void toy_session::on_closed() {
  {
    std::lock_guard lock(mutex_);
    ++closed_calls_;
  }
  closed_cv_.notify_all();
}

void toy_session::wake() {
  std::function<void()> waker;
  {
    std::lock_guard lock(mutex_);
    waker = waker_;
    ++waker_calls_;
  }
  if (waker) waker();
}

void toy_session::push(std::string message) {
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(std::make_shared<const std::string>(std::move(message)));
  }
  wake();
}

void toy_session::close_with(api::close_reason reason) {
  {
    std::lock_guard lock(mutex_);
    close_ = std::move(reason);
  }
  wake();
}

bool toy_session::wait_closed(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  return closed_cv_.wait_for(lock, limit, [this] { return closed_calls_ > 0; });
}

int toy_session::closed_calls() const {
  std::lock_guard lock(mutex_);
  return closed_calls_;
}

int toy_session::waker_calls() const {
  std::lock_guard lock(mutex_);
  return waker_calls_;
}

int toy_session::shutdown_calls() const {
  std::lock_guard lock(mutex_);
  return shutdown_calls_;
}

std::vector<std::string> toy_session::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

// ---- toy_handler ----

api::http_response toy_handler::operator()(api::http_request& request) {
  calls_.fetch_add(1);
  const std::string path = request.target.substr(0, request.target.find('?'));
  api::http_response res;
  res.headers.emplace_back("X-Request-Id", "req_test");
  auto hand_out = [&](api::stream_kind kind, bool stubborn = false) {
    auto session = std::make_shared<toy_session>(kind, stubborn);
    {
      std::lock_guard lock(mutex_);
      sessions_.push_back(session);
    }
    cv_.notify_all();
    res.stream = session;
  };
  if (path == "/throw") throw std::runtime_error("the toy handler throws");
  if (path == "/block") {
    std::unique_lock lock(mutex_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return released_; });
    res.body = "done";
    return res;
  }
  if (path == "/sse") {
    hand_out(api::stream_kind::sse);
    return res;
  }
  if (path == "/ws" || path == "/ws-stubborn") {
    if (!request.websocket_upgrade) return api::problem_response(426, "upgrade", "req_test");
    hand_out(api::stream_kind::websocket, path == "/ws-stubborn");
    return res;
  }
  if (path == "/ws-denied") return api::problem_response(401, "no key", "req_test");
  if (path == "/ws-misused") {
    hand_out(api::stream_kind::websocket);
    return res;
  }
  if (path == "/framing") {
    res.headers.emplace_back("Content-Length", "999");
    res.headers.emplace_back("Transfer-Encoding", "chunked");
    res.headers.emplace_back("X-Evil", "a\r\nInjected: yes");
    res.body = "framed by the transport";
    return res;
  }
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [name, value] : request.headers) headers.push_back({name, value});
  res.headers.emplace_back("Content-Type", "application/json");
  res.body =
      nlohmann::json{{"method", request.method}, {"target", request.target},
                     {"headers", headers},       {"body", request.body},
                     {"remote", request.remote}, {"websocket_upgrade", request.websocket_upgrade}}
          .dump();
  return res;
}

std::shared_ptr<toy_session> toy_handler::session(std::size_t n, std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  if (!cv_.wait_for(lock, limit, [&] { return sessions_.size() >= n; })) return nullptr;
  return sessions_[n - 1];
}

bool toy_handler::wait_entered(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, limit, [this] { return entered_; });
}

void toy_handler::release() {
  {
    std::lock_guard lock(mutex_);
    released_ = true;
  }
  cv_.notify_all();
}

http_config test_limits() {
  http_config limits;
  limits.header_timeout = 5s;
  limits.idle_timeout = 5s;
  limits.drain_timeout = 5s;
  limits.io_threads = 2;
  return limits;
}

std::unique_ptr<server> start_server(const http_config& limits, request_handler handler) {
  auto started = server::start("127.0.0.1:0", limits, std::move(handler));
  if (!started) throw std::runtime_error("server::start: " + describe(started.error()));
  return std::move(*started);
}

}  // namespace grok::http::testing
