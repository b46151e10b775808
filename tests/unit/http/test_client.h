// What the transport's tests share: clients (raw TCP and Beast HTTP/WebSocket) run as
// coroutines on a private io_context with a deadline, a toy stream session, and a toy
// request handler that records what it was given.
// Thread-safety: client_io is used by the test thread only; toy_session and toy_handler
// may be touched from the server's io threads and the test thread at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/asio/use_future.hpp>
#include "api/stream_session.h"

#include "http/beast.h"
#include "http/server.h"

namespace grok::http::testing {

using namespace std::chrono_literals;
using string_response = bhttp::response<bhttp::string_body>;
using string_request = bhttp::request<bhttp::string_body>;

inline constexpr std::chrono::milliseconds k_client_timeout = 10s;

// Runs client coroutines on the test thread, each with a deadline.
class client_io {
 public:
  client_io() : work_(ctx_.get_executor()) {}

  // Runs `op` to completion; throws if it takes longer than `limit` (or rethrows what it
  // threw).
  template <class T>
  T run(net::awaitable<T> op, std::chrono::milliseconds limit = k_client_timeout) {
    if constexpr (std::is_void_v<T>) {
      finish(start(std::move(op)), limit);
    } else {
      // co_spawn wants default-constructible results; sockets are not.
      std::optional<T> out;
      finish(start(store(std::move(op), out)), limit);
      return std::move(*out);
    }
  }
  // Starts `op` without waiting; pump() drives it.
  template <class T>
  std::future<T> start(net::awaitable<T> op) {
    return net::co_spawn(ctx_, std::move(op), net::use_future);
  }
  // Runs client handlers until `done()` or `limit`; false on the limit.
  bool pump(const std::function<bool()>& done, std::chrono::milliseconds limit = k_client_timeout);

  net::io_context& context() { return ctx_; }

 private:
  template <class T>
  static net::awaitable<void> store(net::awaitable<T> op, std::optional<T>& out) {
    out.emplace(co_await std::move(op));
  }
  void finish(std::future<void> done, std::chrono::milliseconds limit) {
    if (!pump([&] { return done.wait_for(0s) == std::future_status::ready; }, limit)) {
      throw std::runtime_error("the client timed out");
    }
    done.get();
  }

  net::io_context ctx_;
  net::executor_work_guard<net::io_context::executor_type> work_;
};

// Polls `done` (a server-side condition) until it holds; false after `limit`.
bool wait_until(const std::function<bool()>& done,
                std::chrono::milliseconds limit = k_client_timeout);

// A connection to 127.0.0.1:port.
net::awaitable<tcp::socket> connect_to(std::uint16_t port);
// Writes all of `bytes`.
net::awaitable<void> write_text(tcp::socket& socket, std::string bytes);
// Everything until the peer closes (EOF or reset).
net::awaitable<std::string> read_to_end(tcp::socket& socket);
// Reads until `needle` appeared in `seen` (which keeps what was read); false on EOF.
net::awaitable<bool> read_until_seen(tcp::socket& socket, std::string& seen,
                                     std::string_view needle);

// A request with Host and (for a body) Content-Length.
string_request make_request(bhttp::verb method, std::string target, std::string body = {});
// Writes `req` and reads one response.
net::awaitable<string_response> exchange(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                         string_request req);
// Connects, sends raw bytes and reads until the server closes.
net::awaitable<std::string> raw_exchange(std::uint16_t port, std::string bytes);

// Parses a whole raw response (as read_to_end returns it).
string_response parse_response(const std::string& raw);

// An open Server-Sent Events response: its head, and the body bytes read so far.
struct sse_stream {
  tcp::socket socket;
  string_response head;
  std::string body;
};
net::awaitable<sse_stream> open_sse(std::uint16_t port, std::string target);

using ws_client = websocket::stream<beast::tcp_stream>;
// Handshakes; `res` gets the server's answer (the 101, or the refusal); `ec` the outcome.
net::awaitable<std::unique_ptr<ws_client>> open_ws(std::uint16_t port, std::string target,
                                                   websocket::response_type& res,
                                                   beast::error_code& ec);
// One message (ec set when the connection ended; ws.reason() then has the close frame).
struct ws_message {
  beast::error_code ec;
  std::string text;
};
net::awaitable<ws_message> read_ws(ws_client& ws);
// Messages until the server closes.
net::awaitable<std::vector<std::string>> read_ws_until_closed(ws_client& ws);
// Tries to connect until the server refuses; false if it never does within `limit`.
net::awaitable<bool> wait_refused(std::uint16_t port, std::chrono::milliseconds limit);

// A stream session as the API would return one, scripted by the test.
//   on_message("slow") closes 1008 "slow consumer"; any other text is echoed "echo:TEXT";
//   shutdown() queues a last message ("data: bye\n\n" or "bye") and closes 1001, unless
//   ignore_shutdown.
class toy_session : public api::stream_session {
 public:
  explicit toy_session(api::stream_kind kind, bool ignore_shutdown = false)
      : kind_(kind), ignore_shutdown_(ignore_shutdown) {}

  [[nodiscard]] api::stream_kind kind() const noexcept override { return kind_; }
  void set_waker(std::function<void()> waker) override;
  [[nodiscard]] api::stream_batch next_batch() override;
  void on_message(std::string_view text) override;
  [[nodiscard]] std::string heartbeat() const override;
  void shutdown() override;
  void on_closed() override;

  // Test side, any thread.
  void push(std::string message);
  void close_with(api::close_reason reason);
  bool wait_closed(std::chrono::milliseconds limit = k_client_timeout);
  [[nodiscard]] int closed_calls() const;
  [[nodiscard]] int waker_calls() const;
  [[nodiscard]] int shutdown_calls() const;
  [[nodiscard]] std::vector<std::string> received() const;

 private:
  void wake();

  const api::stream_kind kind_;
  const bool ignore_shutdown_;
  mutable std::mutex mutex_;
  std::condition_variable closed_cv_;
  std::function<void()> waker_;             // guarded by mutex_
  std::vector<api::message_ptr> pending_;   // guarded by mutex_
  std::optional<api::close_reason> close_;  // guarded by mutex_
  bool close_sent_ = false;                 // guarded by mutex_
  std::vector<std::string> received_;       // guarded by mutex_
  int closed_calls_ = 0;                    // guarded by mutex_
  int waker_calls_ = 0;                     // guarded by mutex_
  int shutdown_calls_ = 0;                  // guarded by mutex_
};

// The handler the tests serve:
//   /throw          throws;
//   /block          signals entered(), then waits for release();
//   /sse            an SSE toy_session;
//   /ws             a WebSocket toy_session when the request is an upgrade;
//   /ws-stubborn    a WebSocket toy_session that ignores shutdown();
//   /ws-denied      401 problem+json;
//   /ws-misused     a WebSocket session without an upgrade request (a handler bug);
//   /framing        a body with bogus framing headers the transport must ignore;
//   anything else   200 with the request echoed as JSON.
// Every answer carries X-Request-Id: req_test.
class toy_handler {
 public:
  api::http_response operator()(api::http_request& request);
  request_handler as_handler() {
    return [this](api::http_request& r) { return (*this)(r); };
  }

  // Waits until `n` sessions were handed out; the n-th (1-based).
  std::shared_ptr<toy_session> session(std::size_t n = 1,
                                       std::chrono::milliseconds limit = k_client_timeout);
  bool wait_entered(std::chrono::milliseconds limit = k_client_timeout);
  void release();
  [[nodiscard]] int calls() const { return calls_.load(); }

 private:
  std::atomic<int> calls_{0};
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<toy_session>> sessions_;  // guarded by mutex_
  bool entered_ = false;                                // guarded by mutex_
  bool released_ = false;                               // guarded by mutex_
};

// Limits for tests: short timeouts so that failures surface fast.
http_config test_limits();

// Starts a server on 127.0.0.1:0; throws when that fails.
std::unique_ptr<server> start_server(const http_config& limits, request_handler handler);

}  // namespace grok::http::testing
