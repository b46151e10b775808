// Turns runs into OpenTelemetry spans, one trace per run, from the events the store
// commits (store/event_feed.h) and the model calls it records:
//
//   invoke_agent grok        the run: run.created .. run.completed/failed/cancelled
//     planner, worker.E1 …   one span per step attempt: step.started .. step.completed/
//                            failed/retrying
//       chat {model}         each model call of the step (llm_calls), GenAI attributes
//       execute_tool {tool}  tool.requested .. tool.result
//
// The run's trace continues the caller's when the run was created with a W3C traceparent
// (run_record::trace_parent): same trace id, and the run span's parent is the caller's
// span; a caller that did not sample (flags 00) gets no spans. Other runs get a trace id
// of their own, derived from the run id. Span ids are derived from stable names too, so
// a run finished by another process (after a crash or a restart) still links its spans.
//
// The feed listener only copies the events it needs into a bounded queue (beyond
// max_pending_events or max_pending_bytes they are dropped and counted in
// grok_trace_events_dropped_total);
// this object's own thread reads the run and its model calls from the store and hands
// finished spans to `sink`, which must not block (otlp_exporter::enqueue). State is kept
// for at most max_runs unfinished runs; the least recently active is forgotten beyond.
//
// Thread-safety: construct and destroy on one thread; drain() from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "obs/otlp_json.h"
#include "store/store.h"

namespace grok::obs {

class counter_family;

struct run_tracer_options {
  std::size_t max_pending_events = 10'000;
  std::size_t max_pending_bytes = 8 * 1024 * 1024;  // of the event bodies held
  std::size_t max_runs = 1'000;
};

class run_tracer {
 public:
  using span_sink = std::function<void(span)>;

  // Subscribes to the events `st` commits in this process (store::local_events_feed). `st` and
  // `sink` must outlive this object.
  run_tracer(store::store& st, span_sink sink, run_tracer_options options = {});
  // Unsubscribes, turns the events already received into spans, and stops the thread.
  ~run_tracer();
  run_tracer(const run_tracer&) = delete;
  run_tracer& operator=(const run_tracer&) = delete;

  // Waits until every event received before the call has been handled, for at most
  // `timeout`. Returns whether it was.
  bool drain(std::chrono::milliseconds timeout);

  // Unfinished runs whose state is held now.
  [[nodiscard]] std::size_t tracked_runs() const;

 private:
  struct pending_event {
    std::string run_id;
    std::string type;
    std::optional<std::string> step_id;
    std::optional<std::string> name;
    time_point ts;
    std::string body_json;  // only for the types whose body is read
  };
  struct run_state;
  struct builder;

  void on_events(const std::vector<store::event_record>& events);
  void run();

  store::store& store_;
  span_sink sink_;
  run_tracer_options options_;
  counter_family& dropped_events_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<pending_event> pending_;  // guarded by mutex_
  std::size_t pending_bytes_ = 0;      // guarded by mutex_: body bytes in pending_
  std::uint64_t received_ = 0;         // guarded by mutex_: events queued or dropped
  std::uint64_t handled_ = 0;          // guarded by mutex_: of those, handled or dropped
  std::size_t tracked_runs_ = 0;       // guarded by mutex_: a copy for tracked_runs()
  bool stopping_ = false;              // guarded by mutex_

  std::unique_ptr<builder> builder_;  // used by the thread only
  std::thread thread_;
  std::unique_ptr<store::feed_subscription> subscription_;
};

}  // namespace grok::obs
