#include "obs/queue_metrics.h"

#include <set>
#include <string>

namespace grok::obs {

queue_metrics::queue_metrics(store::store& st, registry& r, std::chrono::milliseconds min_interval)
    : store_(st),
      min_interval_(min_interval),
      jobs_(
          r.gauge("grok_queue_jobs", "Jobs in the queue, by topic and state.", {"topic", "state"})),
      visible_(r.gauge("grok_queue_visible_jobs", "Jobs claimable right now.")),
      lag_(r.gauge("grok_queue_oldest_visible_lag_seconds",
                   "How long the oldest claimable job has waited to be claimed (0 when none is "
                   "waiting).")),
      dead_(r.gauge("grok_queue_dead_jobs", "Dead-lettered jobs in the queue, all topics.")),
      errors_(r.counter("grok_metrics_collector_errors_total",
                        "Scrapes in which a collector could not read its figures.",
                        {"collector"})) {}

void queue_metrics::collect() {
  const std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (last_read_ && now - *last_read_ < min_interval_) return;
  last_read_ = now;

  auto stats = store_.get_queue_stats();
  if (!stats) {
    errors_.inc({"queue"});
    for (auto* g : {&jobs_, &visible_, &lag_, &dead_}) g->clear();
    return;
  }
  // Every state of every topic present, so that a state that empties shows 0, not nothing.
  std::set<std::string> topics;
  for (const auto& d : stats->depth) topics.insert(d.topic);
  jobs_.clear();
  for (const auto& topic : topics) {
    for (auto state : {store::job_state::ready, store::job_state::leased, store::job_state::done,
                       store::job_state::dead}) {
      jobs_.set({topic, store::to_string(state)}, 0);
    }
  }
  double dead = 0;
  for (const auto& d : stats->depth) {
    jobs_.set({d.topic, store::to_string(d.state)}, static_cast<double>(d.count));
    if (d.state == store::job_state::dead) dead += static_cast<double>(d.count);
  }
  visible_.set({}, static_cast<double>(stats->visible));
  lag_.set({}, stats->oldest_visible_lag
                   ? std::chrono::duration<double>(*stats->oldest_visible_lag).count()
                   : 0.0);
  dead_.set({}, dead);
}

}  // namespace grok::obs
