// One streaming connection's state, shared by the SSE and WebSocket sessions: the runs it
// follows, the "*" subscription, the bounded outbox of live messages, and how the
// connection must end.
//
// Following a run has two phases. Catch-up: the channel is registered with the router
// first, so the live events of the run are kept in a (bounded) pending list, while
// next_batch() reads the stored events after the client's position one page at a time, as
// the client takes them. When a page comes back short the follow goes live: the pending
// events newer than the last one sent join the batch, and from then on the fan-out pushes
// the run's events straight into the outbox. Events are sent in seq order, without gap or
// duplicate. If the pending list overflows it is dropped and catch-up simply reads on:
// everything is stored.
//
// The outbox holds at most max_buffer_bytes of unsent live messages (a single message is
// always accepted into an empty outbox); a push beyond that drops the connection as a slow
// consumer (close 1008). Catch-up pages never count against it.
//
// Thread-safety: the transport strand calls set_waker, next_batch, follow_*, unfollow_*,
// push_reply and close, one at a time; the fan-out thread calls deliver; shutdown may come
// from any thread. All state is guarded by mutex_. The waker is called outside it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "api/stream_hub.h"
#include "api/stream_router.h"
#include "api/stream_session.h"

namespace grok::api::detail {

class stream_channel : public std::enable_shared_from_this<stream_channel> {
 public:
  stream_channel(std::shared_ptr<stream_router> router, stream_kind kind, viewer who);
  stream_channel(const stream_channel&) = delete;
  stream_channel& operator=(const stream_channel&) = delete;

  [[nodiscard]] stream_kind kind() const noexcept { return kind_; }
  [[nodiscard]] const viewer& who() const noexcept { return who_; }
  [[nodiscard]] const std::shared_ptr<stream_router>& router() const noexcept { return router_; }

  void set_waker(std::function<void()> waker);

  // Starts following `run_id` from seq > after (catch-up, then live). `run_ended`: the
  // run had already ended, so the follow ends once the stored events are sent. When the
  // follow ends (terminal event sent), an SSE channel closes (1000 "run ended") and a
  // WebSocket channel just drops the follow. No effect on a closing channel.
  void follow_run(const std::string& run_id, std::int64_t after, bool run_ended);
  // False when the run was not followed.
  bool unfollow_run(const std::string& run_id);
  [[nodiscard]] bool follows_run(const std::string& run_id) const;
  // Live events of every run the viewer may see (the router filters by owner).
  void follow_all();
  bool unfollow_all();
  [[nodiscard]] bool follows_all() const;
  // Runs followed plus one for "*".
  [[nodiscard]] std::size_t subscription_count() const;

  // A reply to the client (WebSocket errors, pongs), queued like live messages.
  void push_reply(message_ptr m);

  [[nodiscard]] stream_batch next_batch();
  // The next next_batch() returns the queued messages and close 1001 (unless another
  // close was already decided). Wakes the transport.
  void shutdown();
  // The connection ended: leaves the router. Idempotent.
  void close();

  // Fan-out thread: a live event of a run this channel follows, or (wildcard_allowed: the
  // viewer may see the run) one for its "*" subscription.
  void deliver(const live_event& ev, bool wildcard_allowed);

 private:
  struct pending_event {
    std::int64_t seq = 0;
    bool terminal = false;
    message_ptr message;
  };
  struct run_follow {
    std::int64_t last_seq = 0;  // the client has (or did not want) every event up to here
    bool live = false;
    bool run_ended = false;             // ended before the follow began: stop after catch-up
    std::deque<pending_event> pending;  // catch-up only: live events, contiguous seqs
    std::size_t pending_bytes = 0;
    std::int64_t pending_max_seq = 0;  // highest seq ever put in pending (dropped or not)
  };
  using follow_ptr = std::shared_ptr<run_follow>;

  enum class page_outcome { more, live, ended };

  // Appends the formatted stored events to `out` (updating last_seq) and decides what
  // follows. `asked`: the page size requested. Needs mutex_.
  page_outcome take_page_locked(const std::string& run_id, run_follow& f,
                                const std::vector<store::event_record>& page, std::size_t asked,
                                stream_batch& out);
  // Moves the pending events after last_seq into `out` if they continue it without a gap.
  page_outcome try_go_live_locked(const std::string& run_id, run_follow& f, stream_batch& out);
  // The run's terminal event went out (or the run had ended): drop the follow; SSE closes.
  void end_follow_locked(const std::string& run_id);
  // Queues a live message; on overflow the channel becomes a dropped slow consumer.
  // Returns whether the outbox went from empty to non-empty (or the channel closed).
  bool push_locked(message_ptr m);
  void leave_router_locked();
  void close_with_locked(close_reason why);
  void drain_outbox_locked(stream_batch& out);
  [[nodiscard]] message_ptr format_stored(const store::event_record& e) const;

  const std::shared_ptr<stream_router> router_;
  const stream_kind kind_;
  const viewer who_;

  mutable std::mutex mutex_;
  std::shared_ptr<const std::function<void()>> waker_;      // guarded by mutex_
  std::map<std::string, follow_ptr, std::less<>> follows_;  // guarded by mutex_
  bool follow_all_ = false;                                 // guarded by mutex_
  std::deque<message_ptr> outbox_;                          // guarded by mutex_
  std::size_t outbox_bytes_ = 0;                            // guarded by mutex_
  std::optional<close_reason> close_;  // guarded by mutex_: decided, sent after the outbox
  bool closed_ = false;                // guarded by mutex_: close() ran
  std::size_t read_turn_ = 0;          // guarded by mutex_: which follow reads first
};

}  // namespace grok::api::detail
