// The streaming half of a connection: Server-Sent Events and WebSocket sessions, driven as
// api/stream_session.h describes. One writer (drive_stream) and one reader per stream, both
// on the connection's strand.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "http/connection.h"

namespace grok::http {
namespace {

using clock_type = std::chrono::steady_clock;

// The longest close reason a WebSocket close frame carries.
constexpr std::size_t k_max_close_reason = 123;

bool is_sendable_close_code(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
         (code >= 3000 && code <= 4999);
}

void set_default(bhttp::fields& fields, bhttp::field name, std::string_view value) {
  if (fields.find(name) == fields.end()) fields.set(name, value);
}

}  // namespace

net::awaitable<void> connection::serve_stream(beast_request req, api::http_response res,
                                              bool upgrade) {
  if (res.stream->kind() == api::stream_kind::websocket && !upgrade) {
    spdlog::error("http: handler returned a WebSocket session for {} {} without an upgrade",
                  std::string(req.method_string()), std::string(req.target()));
    session_ = std::move(res.stream);
    finish_session();
    (void)co_await write_problem(stream_, 500, "internal error", req.version(),
                                 state_->write_timeout());
    co_return;  // run() closes
  }
  if (res.stream->kind() == api::stream_kind::websocket) {
    co_await run_websocket(std::move(req), std::move(res));
  } else {
    co_await run_sse(std::move(res), req.version());
  }
}

void connection::start_session(std::shared_ptr<api::stream_session> session) {
  session_ = std::move(session);
  phase_ = phase::streaming;
  session_->set_waker([link = link_] { link->wake(); });
  // stop() arrived while the handler ran: the session's first batch is its close.
  if (draining_) session_->shutdown();
}

void connection::finish_session() noexcept {
  if (!session_ || session_closed_) return;
  session_closed_ = true;
  try {
    session_->on_closed();
  } catch (...) {
    log_exception("stream session on_closed", std::current_exception());
  }
}

net::awaitable<void> connection::run_sse(api::http_response res, unsigned version) {
  start_session(std::move(res.stream));
  bhttp::response<bhttp::empty_body> head;
  head.version(version);
  set_status(head, res.status);
  apply_headers(head, res.headers);
  set_default(head, bhttp::field::content_type, "text/event-stream");
  set_default(head, bhttp::field::cache_control, "no-cache");
  if (head.find("X-Accel-Buffering") == head.end()) head.set("X-Accel-Buffering", "no");
  set_default(head, bhttp::field::server, "grok");
  head.keep_alive(false);  // the body ends when the connection does

  bhttp::response_serializer<bhttp::empty_body> serializer{head};
  stream_.expires_after(state_->write_timeout());
  auto [ec, n] = co_await bhttp::async_write_header(stream_, serializer, k_use_tuple);
  stream_.expires_never();
  if (!ec) {
    last_write_ = clock_type::now();
    spawn_reader();
    co_await drive_stream();
    // The reader has consumed whatever the client sent, so closing sends a FIN (the end
    // of the body), not a reset.
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
  beast::error_code ignored;
  stream_.socket().close(ignored);
  co_await wait_for_reader(linger());
  finish_session();
}

net::awaitable<void> connection::run_websocket(beast_request req, api::http_response res) {
  const auto& limits = state_->limits;
  start_session(std::move(res.stream));
  stream_.expires_never();
  ws_.emplace(std::move(stream_));

  // Beast pings when nothing arrived for one heartbeat and drops the peer if nothing
  // (not even the pong) arrived for the next one.
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = limits.header_timeout;
  timeouts.idle_timeout = limits.heartbeat.count() > 0
                              ? websocket::stream_base::duration(limits.heartbeat * 2)
                              : websocket::stream_base::none();
  timeouts.keep_alive_pings = true;
  ws_->set_option(timeouts);
  ws_->read_message_max(limits.ws_max_message_bytes);
  ws_->set_option(websocket::stream_base::decorator(
      [headers = std::move(res.headers)](websocket::response_type& out) {
        out.erase(bhttp::field::server);
        apply_headers(out, headers);
        set_default(out, bhttp::field::server, "grok");
      }));
  ws_->text(true);

  auto [ec] = co_await ws_->async_accept(req, k_use_tuple);
  if (!ec) {
    last_write_ = clock_type::now();
    spawn_reader();
    co_await drive_stream();
  } else {
    spdlog::debug("http: WebSocket upgrade from {} failed: {}", remote_, ec.message());
  }
  beast::error_code ignored;
  beast::get_lowest_layer(*ws_).socket().close(ignored);
  co_await wait_for_reader(linger());
  finish_session();
}

void connection::spawn_reader() {
  reader_done_ = false;
  net::co_spawn(timer_.get_executor(), ws_ ? read_websocket() : read_sse(),
                [self = shared_from_this()](std::exception_ptr e) {
                  log_exception("stream reader for " + self->remote_, e);
                  self->reader_done_ = true;
                  if (!self->forced_close_) self->peer_gone_ = true;
                  self->wake_pending_ = true;
                  self->timer_.cancel();
                });
}

net::awaitable<void> connection::read_sse() {
  // An SSE client sends nothing after its request; reading only notices when it leaves.
  std::array<char, 512> scratch{};
  for (;;) {
    auto [ec, n] = co_await stream_.async_read_some(net::buffer(scratch), k_use_tuple);
    if (ec) co_return;
  }
}

net::awaitable<void> connection::read_websocket() {
  beast::flat_buffer buffer;
  for (;;) {
    auto [ec, n] = co_await ws_->async_read(buffer, k_use_tuple);
    if (ec) co_return;  // closed by the peer or by us, too big, reset
    if (!ws_->got_text()) {
      forced_close_ = api::close_reason{1003, "only text messages are accepted"};
      co_return;
    }
    if (!session_closed_) {
      const auto data = buffer.data();
      session_->on_message(std::string_view(static_cast<const char*>(data.data()), data.size()));
    }
    buffer.consume(buffer.size());
    wake_pending_ = true;  // replies come out of next_batch()
    timer_.cancel();
  }
}

net::awaitable<void> connection::wait_for_reader(std::chrono::milliseconds limit) {
  const auto deadline = clock_type::now() + limit;
  while (!reader_done_ && clock_type::now() < deadline) {
    timer_.expires_at(deadline);
    co_await timer_.async_wait(k_use_tuple);
  }
}

net::awaitable<void> connection::drive_stream() {
  const auto heartbeat = state_->limits.heartbeat;
  for (;;) {
    if (forced_close_) {
      co_await send_close(*forced_close_);
      co_return;
    }
    if (peer_gone_) co_return;
    wake_pending_ = false;
    api::stream_batch batch = session_->next_batch();
    if (!co_await send_batch(batch.messages)) {
      peer_gone_ = true;
      co_return;
    }
    if (batch.close) {
      co_await send_close(*batch.close);
      co_return;
    }
    if (!batch.messages.empty() || wake_pending_) continue;
    if (heartbeat.count() > 0) {
      const auto due = last_write_ + heartbeat;
      if (clock_type::now() >= due) {
        if (!co_await send_heartbeat()) {
          peer_gone_ = true;
          co_return;
        }
        continue;
      }
      timer_.expires_at(due);
    } else {
      timer_.expires_at(clock_type::time_point::max());
    }
    co_await timer_.async_wait(k_use_tuple);  // a wake-up cancels it
  }
}

net::awaitable<bool> connection::send_batch(const std::vector<api::message_ptr>& messages) {
  if (ws_) {
    for (const auto& message : messages) {
      if (message && !co_await send_message(*message)) co_return false;
    }
    co_return true;
  }
  // SSE: the whole batch in one write.
  std::vector<net::const_buffer> buffers;
  buffers.reserve(messages.size());
  for (const auto& message : messages) {
    if (message && !message->empty()) buffers.emplace_back(net::buffer(*message));
  }
  if (buffers.empty()) co_return true;
  stream_.expires_after(state_->write_timeout());
  auto [ec, n] = co_await net::async_write(stream_, buffers, k_use_tuple);
  if (ec) {
    spdlog::debug("http: stream to {} ended: {}", remote_, ec.message());
    co_return false;
  }
  last_write_ = clock_type::now();
  co_return true;
}

net::awaitable<bool> connection::send_message(const std::string& text) {
  beast::error_code ec;
  if (ws_) {
    auto [write_ec, n] = co_await ws_->async_write(net::buffer(text), k_use_tuple);
    ec = write_ec;
  } else {
    if (text.empty()) co_return true;
    stream_.expires_after(state_->write_timeout());
    auto [write_ec, n] = co_await net::async_write(stream_, net::buffer(text), k_use_tuple);
    ec = write_ec;
  }
  if (ec) {
    spdlog::debug("http: stream to {} ended: {}", remote_, ec.message());
    co_return false;
  }
  last_write_ = clock_type::now();
  co_return true;
}

net::awaitable<bool> connection::send_heartbeat() {
  const std::string bytes = session_->heartbeat();
  if (bytes.empty()) {
    // WebSocket: Beast's keep-alive pings (above) are the heartbeat.
    last_write_ = clock_type::now();
    co_return true;
  }
  co_return co_await send_message(bytes);
}

net::awaitable<void> connection::send_close(const api::close_reason& reason) {
  if (!ws_) co_return;  // SSE: the body simply ends
  const std::uint16_t code = is_sendable_close_code(reason.code) ? reason.code : 1011;
  websocket::close_reason frame(code);
  const auto length = std::min(reason.reason.size(), k_max_close_reason);
  frame.reason.assign(reason.reason.data(), length);
  auto [ec] = co_await ws_->async_close(frame, k_use_tuple);
  if (ec) spdlog::debug("http: WebSocket close to {}: {}", remote_, ec.message());
}

}  // namespace grok::http
