// One accepted TCP connection: reads requests under the limits of http_config, hands each
// to the request_handler, writes the answers (keep-alive), and, when the handler returns
// a stream session, drives it as Server-Sent Events or as a WebSocket until it ends.
// Private to src/http.
//
// Everything a connection does runs on its own strand: the coroutines (the request loop,
// the stream writer, the stream reader), the drain/close requests from stop(), and the
// wake-ups from the session's producers (posted through a waker_link). The object lives
// as long as one of its coroutines does; its destructor calls the session's on_closed()
// if that has not happened yet and unregisters from the server.
//
// Thread-safety: start() once after construction; begin_drain() and force_close() from
// any thread; everything else on the strand.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/stream_session.h"
#include "http/beast.h"
#include "http/server_state.h"
#include "http/wire.h"

namespace grok::http {

// What a stream session's waker holds: it posts a wake-up to the connection's strand while
// the connection (and so the io_context) is alive, and does nothing once disarmed. The
// session may keep the waker (and this) for longer than the server exists, so disarm()
// also drops the executor.
// Thread-safety: wake() and disarm() from any thread.
class waker_link {
 public:
  waker_link(net::any_io_executor strand, std::weak_ptr<connection> target)
      : strand_(std::move(strand)), target_(std::move(target)) {}

  void wake();
  void disarm();
  // The posted wake-up arrived (strand): the next wake() posts again.
  void clear_posted();

 private:
  std::mutex mutex_;
  net::any_io_executor strand_;       // guarded by mutex_; empty once disarmed
  std::weak_ptr<connection> target_;  // guarded by mutex_
  bool posted_ = false;               // guarded by mutex_: a wake-up is on its way
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(std::shared_ptr<server_state> state, tcp::socket socket, std::uint64_t id);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Registers with the server and spawns the request loop.
  void start();
  // stop(): close if idle, finish the request in flight, shut the stream session down.
  void begin_drain();
  // stop() after drain_timeout: close the socket now.
  void force_close();

 private:
  friend class waker_link;
  enum class phase { waiting, busy, streaming };

  // connection.cpp: the request loop.
  net::awaitable<void> run();
  net::awaitable<bool> serve_request(bool first);  // false: the connection is done
  net::awaitable<bool> reject_request(const beast::error_code& ec, unsigned version);
  [[nodiscard]] api::http_response call_handler(api::http_request& request) const;
  void drain_now();
  void close_now();
  void on_wake();
  [[nodiscard]] std::chrono::milliseconds linger() const;

  // connection_stream.cpp: SSE and WebSocket.
  net::awaitable<void> serve_stream(beast_request req, api::http_response res, bool upgrade);
  net::awaitable<void> run_sse(api::http_response res, unsigned version);
  net::awaitable<void> run_websocket(beast_request req, api::http_response res);
  net::awaitable<void> drive_stream();
  net::awaitable<bool> send_batch(const std::vector<api::message_ptr>& messages);
  net::awaitable<bool> send_message(const std::string& text);
  net::awaitable<bool> send_heartbeat();
  net::awaitable<void> send_close(const api::close_reason& reason);
  net::awaitable<void> read_sse();
  net::awaitable<void> read_websocket();
  net::awaitable<void> wait_for_reader(std::chrono::milliseconds limit);
  void spawn_reader();
  void start_session(std::shared_ptr<api::stream_session> session);
  void finish_session() noexcept;

  std::shared_ptr<server_state> state_;
  const std::uint64_t id_;
  std::string remote_;
  beast::tcp_stream stream_;  // moved into ws_ on an upgrade
  std::optional<websocket::stream<beast::tcp_stream>> ws_;
  beast::flat_buffer buffer_;
  net::steady_timer timer_;  // the stream writer's wait; also the wait for the reader
  std::shared_ptr<waker_link> link_;

  // All below: strand only.
  phase phase_ = phase::waiting;
  bool draining_ = false;
  std::shared_ptr<api::stream_session> session_;
  bool session_closed_ = false;  // on_closed() was called
  bool wake_pending_ = false;    // next_batch() may have something new
  bool peer_gone_ = false;       // the stream can no longer be written
  bool reader_done_ = true;
  std::optional<api::close_reason> forced_close_;  // the reader's verdict (e.g. binary frame)
  std::chrono::steady_clock::time_point last_write_{};
};

}  // namespace grok::http
