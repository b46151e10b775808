// Queue figures for /metrics, read at scrape time from store::get_queue_stats():
//   grok_queue_jobs{topic,state}           jobs by topic and state (ready, leased, done, dead)
//   grok_queue_visible_jobs                 jobs claimable right now
//   grok_queue_oldest_visible_lag_seconds   how long the oldest claimable job has waited
//   grok_queue_dead_jobs                    dead-lettered jobs, all topics
// The counters of what the workers did (retries, dead letters, job durations) are kept by
// queue::worker_pool itself.
//
// The statistics are one grouped scan of the queue table, and /metrics needs no key, so a
// scrape reads them at most once per `min_interval`; in between the gauges keep the last
// figures. When the store cannot be read the gauges are removed (absent, not stale) and
// grok_metrics_collector_errors_total{collector="queue"} counts the failure.
//
// Thread-safety: collect() may be called from any thread (one mutex); the store must
// outlive this object.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>

#include "obs/metrics.h"
#include "store/store.h"

namespace grok::obs {

class queue_metrics {
 public:
  explicit queue_metrics(store::store& st, registry& r = metrics(),
                         std::chrono::milliseconds min_interval = std::chrono::seconds(1));

  // The collector body (registry::add_collector).
  void collect();

 private:
  store::store& store_;
  std::chrono::milliseconds min_interval_;
  gauge_family& jobs_;
  gauge_family& visible_;
  gauge_family& lag_;
  gauge_family& dead_;
  counter_family& errors_;
  std::mutex mutex_;
  std::optional<std::chrono::steady_clock::time_point> last_read_;  // guarded by mutex_
};

}  // namespace grok::obs
