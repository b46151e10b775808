// Live delivery of stored events inside one process: after a transaction that appended
// events commits, the store hands them to every listener, in commit order, so that a
// stream learns of an event without reading the database for it (bench/engine today, the
// SSE and WebSocket streams of the HTTP API next).
//
// Thread-safety: subscribe, unsubscribe and publish may be called from any thread.
// Listeners run on the committing thread while the store's write lock is held, which is
// what keeps them in commit order: a listener must only copy what it needs and return
// (never write to the store, never block, never unsubscribe itself).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <shared_mutex>
#include <vector>

#include "store/run_types.h"

namespace grok::store {

class event_feed {
 public:
  using listener = std::function<void(const std::vector<event_record>&)>;

  // Returns a handle for unsubscribe().
  std::uint64_t subscribe(listener l);
  // Once this returns, the listener is not called again and may be destroyed.
  void unsubscribe(std::uint64_t handle);
  void publish(const std::vector<event_record>& events);

 private:
  std::shared_mutex mutex_;
  std::uint64_t next_handle_ = 1;                // guarded by mutex_
  std::map<std::uint64_t, listener> listeners_;  // guarded by mutex_
};

// Unsubscribes when destroyed.
class feed_subscription {
 public:
  feed_subscription(event_feed& feed, event_feed::listener l)
      : feed_(&feed), handle_(feed.subscribe(std::move(l))) {}
  feed_subscription(const feed_subscription&) = delete;
  feed_subscription& operator=(const feed_subscription&) = delete;
  feed_subscription(feed_subscription&&) = delete;
  feed_subscription& operator=(feed_subscription&&) = delete;
  ~feed_subscription() { feed_->unsubscribe(handle_); }

 private:
  event_feed* feed_;
  std::uint64_t handle_;
};

}  // namespace grok::store
