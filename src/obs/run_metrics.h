// Run and step metrics taken from the store's event feed (store/event_feed.h), so that a
// counter moves exactly when its event commits, and never for an event rolled back:
//   grok_runs_created_total                  run.created
//   grok_runs_total{status}                  run.completed / run.failed / run.cancelled
//   grok_steps_total{tool,status}            step.completed / step.failed
//   grok_step_duration_seconds{tool}         metrics.latency_ms of step.completed / step.failed
//                                            (when the event carries it)
//   grok_step_retries_total{tool}            step.retrying
// `tool` is the tool a worker step called (step.started carries it), "planner" for the
// planner and replanner steps, "solver" for the solver, and "unknown" for a step whose
// start this process did not see (it started before a restart).
//
// The feed's listener rule holds: on_events() only reads the events and updates counters
// (the store's write lock is held while it runs). It remembers the tool of each started
// step until the step or its run ends, for at most k_max_tracked_runs runs (the oldest is
// forgotten first).
//
// Thread-safety: on_events() may be called from any thread (one mutex).
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "obs/metrics.h"
#include "store/run_types.h"

namespace grok::obs {

class run_metrics {
 public:
  static constexpr std::size_t k_max_tracked_runs = 10'000;

  explicit run_metrics(registry& r = metrics());

  // The event feed listener: `events` in commit order.
  void on_events(const std::vector<store::event_record>& events);

 private:
  void on_event(const store::event_record& e);
  // The tool label of a step: remembered from its step.started, else from its name.
  std::string tool_of(const store::event_record& e) const;
  void forget_step(const store::event_record& e);

  counter_family& created_;
  counter_family& finished_;
  counter_family& steps_;
  histogram_family& step_duration_;
  counter_family& retries_;
  label_guard tools_guard_;
  std::mutex mutex_;
  // run id → step id → tool label, for steps started and not yet ended. Guarded by mutex_.
  std::map<std::string, std::map<std::string, std::string>, std::less<>> step_tools_;
};

}  // namespace grok::obs
