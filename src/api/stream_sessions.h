// The two stream_session implementations the hub hands to the transport: SSE (one run,
// ends after its terminal event) and WebSocket (the JSON subscribe / unsubscribe / ping
// protocol of stream_hub.h). Both are thin: the state lives in their stream_channel.
//
// Thread-safety: as stream_session (the transport strand calls one method at a time).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "api/stream_channel.h"
#include "api/stream_session.h"

namespace grok::api::detail {

class sse_session final : public stream_session {
 public:
  explicit sse_session(std::shared_ptr<stream_channel> channel) : channel_(std::move(channel)) {}
  ~sse_session() override { channel_->close(); }
  sse_session(const sse_session&) = delete;
  sse_session& operator=(const sse_session&) = delete;

  [[nodiscard]] stream_kind kind() const noexcept override { return stream_kind::sse; }
  void set_waker(std::function<void()> waker) override { channel_->set_waker(std::move(waker)); }
  [[nodiscard]] stream_batch next_batch() override { return channel_->next_batch(); }
  void on_message(std::string_view /*text*/) override {}  // SSE clients send nothing
  [[nodiscard]] std::string heartbeat() const override;
  void shutdown() override { channel_->shutdown(); }
  void on_closed() override { channel_->close(); }

 private:
  std::shared_ptr<stream_channel> channel_;
};

// Duplicate subscriptions (the same run twice, "*" twice) are answered with a 409 error
// and change nothing; unsubscribing from something not subscribed is a silent no-op (a
// run's subscription also ends by itself after its terminal event). Beyond
// max_ws_subscriptions a subscribe gets a 400 error.
class ws_session final : public stream_session {
 public:
  explicit ws_session(std::shared_ptr<stream_channel> channel) : channel_(std::move(channel)) {}
  ~ws_session() override { channel_->close(); }
  ws_session(const ws_session&) = delete;
  ws_session& operator=(const ws_session&) = delete;

  [[nodiscard]] stream_kind kind() const noexcept override { return stream_kind::websocket; }
  void set_waker(std::function<void()> waker) override { channel_->set_waker(std::move(waker)); }
  [[nodiscard]] stream_batch next_batch() override { return channel_->next_batch(); }
  void on_message(std::string_view text) override;
  [[nodiscard]] std::string heartbeat() const override { return {}; }  // a ping frame instead
  void shutdown() override { channel_->shutdown(); }
  void on_closed() override { channel_->close(); }

 private:
  void subscribe(const std::string& target, std::int64_t after);
  void reply_error(int status, std::string_view detail);

  std::shared_ptr<stream_channel> channel_;
};

}  // namespace grok::api::detail
