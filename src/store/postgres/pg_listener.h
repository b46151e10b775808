// The LISTEN side of the PostgreSQL store: one thread and one dedicated connection per
// process (pg_store.h explains the channels).
//
// Events are published to the store's feed gapless and in seq order per run. The listener
// remembers, per run, the last seq it published; a notification "<run> <first> <last>"
// makes it read the events after that from the table (so a notification that was merged,
// delayed or lost costs nothing but a read). At start, and after every reconnect, it
// catches up: every run still going, and every run that ended since the connection was
// lost, is read on from where this process had got to. Runs that exist before the
// listener first connects are taken as published up to their current last seq: a stream
// that wants their older events reads them from the store (stream_hub does).
//
// Thread-safety: connected() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "core/result.h"

namespace grok::store::postgres {

class pg_store;
class connection;

class pg_listener {
 public:
  [[nodiscard]] static result<std::unique_ptr<pg_listener>> start(pg_store& owner);
  ~pg_listener();  // stops and joins the thread
  pg_listener(const pg_listener&) = delete;
  pg_listener& operator=(const pg_listener&) = delete;

  [[nodiscard]] bool connected() const { return connected_.load(); }

  // Notification payloads. The jobs payload names this process, so that its own
  // notifications (it woke its own workers at commit) are not acted on twice.
  [[nodiscard]] static std::string jobs_payload(std::size_t ready_jobs);
  [[nodiscard]] static std::string events_payload(std::string_view run_id, std::int64_t first,
                                                  std::int64_t last);

 private:
  explicit pg_listener(pg_store& owner);
  void run();
  // Opens the connection, LISTENs and catches up. False when the server is unreachable.
  bool connect();
  void drain_notifications();
  void on_jobs(std::string_view payload);
  void on_events(std::string_view payload);
  // Publishes the events of `run_id` after what was published, up to `last` (or to the
  // end when last is 0). False when the read failed (tried again at the next catch-up).
  bool publish_run(const std::string& run_id, std::int64_t from, std::int64_t last);
  // Reads on every run that is still going or ended since `since_ms`.
  bool catch_up(std::int64_t since_ms);
  void forget_old_runs();

  pg_store& owner_;
  std::unique_ptr<connection> conn_;
  std::thread thread_;
  int stop_fd_ = -1;  // eventfd: written once to stop the thread
  std::atomic<bool> connected_{false};

  struct run_progress {
    std::int64_t published = 0;
    bool ended = false;
    std::int64_t ended_at_ms = 0;
  };
  std::unordered_map<std::string, run_progress> runs_;  // listener thread only
  bool seeded_ = false;                                 // listener thread only
  bool catch_up_needed_ = false;                        // listener thread only
  std::int64_t disconnected_at_ms_ = 0;                 // listener thread only
};

}  // namespace grok::store::postgres
