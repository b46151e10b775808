// The shared state behind stream_hub (stream_hub.h): the one subscription to the store's
// event feed, the fan-out thread that formats each event once and hands it to the
// channels, the index of which channel follows which run (or every run), the store reads
// the channels make while catching up, and the counters.
//
// Channels keep the router alive (shared_ptr), so a session may outlive its stream_hub;
// once stop() has returned nothing here touches the store again, and channels get
// errc::cancelled from the read methods.
//
// Thread-safety: every method may be called from any thread. Lock order: a channel's
// mutex may be held while calling follow_*/unfollow_*/remove_channel/note_slow_consumer
// (they take registry_mutex_), never the other way round: the fan-out thread delivers to
// channels while holding no lock of its own.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "api/stream_hub.h"
#include "api/stream_session.h"
#include "core/result.h"
#include "store/event_feed.h"
#include "store/store.h"

namespace grok::api::detail {

class stream_channel;

// One live event as the fan-out hands it to the channels: formatted once, shared by all.
struct live_event {
  std::string_view run_id;
  std::int64_t seq = 0;
  bool terminal = false;  // run.completed / run.failed / run.cancelled
  message_ptr json;       // the envelope (WebSocket frame)
  message_ptr sse;        // the SSE frame; null when no SSE channel receives this event
};

class stream_router : public std::enable_shared_from_this<stream_router> {
 public:
  stream_router(store::store& st, stream_limits limits);
  ~stream_router();
  stream_router(const stream_router&) = delete;
  stream_router& operator=(const stream_router&) = delete;

  // Subscribes to the store's event feed and starts the fan-out thread. Once.
  void start();
  // shutdown_all(), then: leaves the feed, joins the fan-out thread and waits for the
  // channels' store reads in flight. Idempotent.
  void stop();
  // Every channel, open now or later, ends with close 1001.
  void shutdown_all();

  [[nodiscard]] const stream_limits& limits() const noexcept { return limits_; }

  // Store reads for the channels. errc::cancelled once stop() has begun.
  [[nodiscard]] result<std::vector<store::event_record>> read_events(const std::string& run_id,
                                                                     std::int64_t after, int limit);
  [[nodiscard]] result<std::optional<store::run_record>> read_run(const std::string& run_id);

  // An open channel, counted in stats and ended by shutdown_all(). Returns false when
  // the hub is shutting down (the caller shuts the channel down).
  [[nodiscard]] bool add_channel(const std::shared_ptr<stream_channel>& ch);
  void remove_channel(const stream_channel* ch, stream_kind kind);
  // The fan-out hands the events of `run_id` (or of every run) to `ch` from now on.
  void follow_run(const std::string& run_id, std::weak_ptr<stream_channel> ch);
  void unfollow_run(const std::string& run_id, const stream_channel* ch);
  void follow_all(std::weak_ptr<stream_channel> ch);
  void unfollow_all(const stream_channel* ch);
  void note_slow_consumer() noexcept { slow_dropped_.fetch_add(1); }

  [[nodiscard]] stream_hub::stats current_stats() const;

 private:
  using channel_ref = std::pair<const stream_channel*, std::weak_ptr<stream_channel>>;

  // The feed listener: runs on the committing thread under the store's write lock, so it
  // only copies the events into queue_ and returns.
  void on_feed(const std::vector<store::event_record>& events);
  void run_fan_out();
  void fan_out(const store::event_record& e);
  // Whether `key_id` owns the run (runs are never re-owned, so answers are cached).
  bool owns_run(const std::string& run_id, const std::string& key_id);

  store::store& store_;
  const stream_limits limits_;
  std::optional<store::feed_subscription> feed_;  // set by start(), reset by stop()
  std::thread fan_out_thread_;
  std::once_flag stop_once_;

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::vector<store::event_record> queue_;  // guarded by queue_mutex_
  bool stopping_ = false;                   // guarded by queue_mutex_

  mutable std::mutex registry_mutex_;
  std::unordered_map<std::string, std::vector<channel_ref>> by_run_;  // guarded by registry_mutex_
  std::vector<channel_ref> watch_all_;                                // guarded by registry_mutex_
  std::unordered_map<const stream_channel*, std::weak_ptr<stream_channel>>
      channels_;                    // guarded by registry_mutex_
  std::size_t open_sse_ = 0;        // guarded by registry_mutex_
  std::size_t open_websocket_ = 0;  // guarded by registry_mutex_
  bool shutting_down_ = false;      // guarded by registry_mutex_
  // Entries in by_run_ plus watch_all_: the feed listener skips copying while it is 0
  // (a follower that registers later catches up from the store, where those events are).
  std::atomic<std::size_t> follows_{0};

  std::mutex reads_mutex_;
  std::condition_variable reads_done_;
  int reads_in_flight_ = 0;    // guarded by reads_mutex_
  bool reads_closed_ = false;  // guarded by reads_mutex_

  std::atomic<std::uint64_t> fanned_out_{0};
  std::atomic<std::uint64_t> slow_dropped_{0};

  // Fan-out thread only: run id -> owner key id (nullopt: a run without an owner).
  std::unordered_map<std::string, std::optional<std::string>> owners_;
};

}  // namespace grok::api::detail
