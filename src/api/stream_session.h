// One streaming client connection (SSE or WebSocket) as the API sees it, without Beast.
// The transport (http/) owns the socket and drives the session:
//
//   session->set_waker(f);              // once, before anything else
//   loop:
//     auto b = session->next_batch();   // may read the store briefly (catch-up pages)
//     write b.messages in order (SSE: raw bytes; WebSocket: one text frame each)
//     if (b.close) { close as told; stop }
//     if (b.messages.empty()) wait until the waker fires, a heartbeat is due or the
//       client sends something (WebSocket: session->on_message(text), then loop)
//   session->on_closed();               // always, once, however the connection ended
//
// The waker is called from any thread (the event fan-out thread, the committing thread)
// whenever next_batch() may have something new; it must only schedule work on the
// transport's executor and return. It may be called after on_closed(): the transport
// must keep whatever the waker touches alive (capture a weak_ptr).
//
// Thread-safety: set_waker, next_batch, on_message, heartbeat and on_closed are called
// from the transport's strand only (one at a time); the session's producers (the fan-out)
// push from other threads behind the session's own mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"

namespace grok::api {

using message_ptr = std::shared_ptr<const std::string>;

// How the transport must end the connection.
struct close_reason {
  // WebSocket close code: 1000 normal, 1001 going away (shutdown), 1008 policy
  // violation (slow consumer, bad message flood), 1011 internal error. Ignored for SSE
  // (the response simply ends).
  std::uint16_t code = 1000;
  std::string reason;  // at most 123 bytes (the WebSocket limit)
};

struct stream_batch {
  std::vector<message_ptr> messages;
  // Set once the messages above are the last: the transport writes them, then closes.
  std::optional<close_reason> close;
};

class stream_session {
 public:
  virtual ~stream_session() = default;

  [[nodiscard]] virtual stream_kind kind() const noexcept = 0;
  virtual void set_waker(std::function<void()> waker) = 0;
  // Everything ready to send now, in order (may be empty).
  [[nodiscard]] virtual stream_batch next_batch() = 0;
  // WebSocket only: one complete text message from the client. Replies (errors, pongs)
  // come out of next_batch(); the transport calls next_batch() right after.
  virtual void on_message(std::string_view text) = 0;
  // The bytes to send when the connection has been idle for the heartbeat interval
  // (SSE: a comment line; WebSocket: empty, the transport sends a ping frame instead).
  [[nodiscard]] virtual std::string heartbeat() const = 0;
  // The server is shutting down: the next next_batch() returns the close (1001).
  virtual void shutdown() = 0;
  // The connection ended (client gone, closed, error): drop subscriptions.
  virtual void on_closed() = 0;
};

}  // namespace grok::api
