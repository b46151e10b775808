// Sends finished spans to an OpenTelemetry collector over OTLP/HTTP with the JSON encoding
// (obs/otlp_json.h), from its own thread, so that tracing never slows a run down.
//
// Spans wait in a bounded queue; a batch goes out when max_batch_spans are waiting or the
// oldest has waited flush_interval. A batch that fails in a retryable way (no connection,
// a timeout, 429, 502, 503, 504) is sent once more after a short pause, then dropped; a
// full queue drops the new span. Every drop is counted in grok_trace_spans_dropped_total
// {reason} and every exported span in grok_trace_spans_exported_total; failed requests in
// grok_trace_export_failures_total (obs::metrics()).
//
// Thread-safety: enqueue(), flush() and counts() may be called from any thread at once.
// enqueue() never waits for the network: it takes one short lock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "obs/otlp_json.h"

namespace grok::obs {

class counter_family;

struct otlp_exporter_options {
  std::string url;  // the full /v1/traces URL (see traces_url())
  resource_info resource;
  std::size_t max_queue_spans = 4096;
  std::size_t max_batch_spans = 512;
  std::chrono::milliseconds flush_interval{2'000};
  std::chrono::milliseconds export_timeout{5'000};  // one request, connect included
  std::size_t max_response_bytes = 64 * 1024;       // more of a response body is not read
};

class otlp_exporter {
 public:
  // Starts the export thread. Nothing is sent before the first span.
  explicit otlp_exporter(otlp_exporter_options options);
  // Sends what is still queued, for at most export_timeout in all, drops (and counts) the
  // rest, and stops the thread.
  ~otlp_exporter();
  otlp_exporter(const otlp_exporter&) = delete;
  otlp_exporter& operator=(const otlp_exporter&) = delete;

  // Queues a finished span. Returns false when the queue was full: the span was dropped
  // and counted.
  bool enqueue(span s);

  // Sends what is queued now without waiting for the flush interval, and waits until every
  // span queued before the call was exported or dropped, for at most `timeout`. Returns
  // whether that happened in time.
  bool flush(std::chrono::milliseconds timeout);

  struct totals {
    std::uint64_t exported = 0;         // spans the collector accepted
    std::uint64_t dropped = 0;          // spans lost: queue full, export failed, rejected
    std::uint64_t failed_requests = 0;  // requests that failed (a retry counts again)
  };
  // This exporter's own counts (the metrics add up every exporter of the process).
  [[nodiscard]] totals counts() const;

 private:
  struct queued {
    span s;
    std::chrono::steady_clock::time_point at;
  };
  struct post_outcome {
    bool ok = false;
    bool retryable = false;
    std::chrono::milliseconds retry_after{0};
    std::uint64_t rejected = 0;  // spans a partial success refused
    std::string why;             // for the log, when !ok
  };

  void run();
  void send(std::vector<span> batch, std::chrono::steady_clock::time_point deadline);
  post_outcome post(const std::string& body, std::chrono::milliseconds timeout);
  void finish(std::size_t exported, std::size_t dropped, std::string_view reason);

  otlp_exporter_options options_;
  std::string url_for_log_;
  counter_family& exported_metric_;
  counter_family& dropped_metric_;
  counter_family& failures_metric_;
  void* curl_ = nullptr;  // CURL*, used by the export thread only

  mutable std::mutex mutex_;
  std::condition_variable wake_;      // the export thread waits on this
  std::condition_variable progress_;  // flush() waits on this
  std::deque<queued> queue_;          // guarded by mutex_
  bool stopping_ = false;             // guarded by mutex_
  bool flush_now_ = false;            // guarded by mutex_
  std::uint64_t accepted_ = 0;        // guarded by mutex_: spans queued so far
  std::uint64_t settled_ = 0;         // guarded by mutex_: of those, exported or dropped
  totals totals_;                     // guarded by mutex_
  bool warned_ = false;               // guarded by mutex_: one log line per outage
  std::thread thread_;
};

// The URL to POST spans to: `endpoint` itself when its path already ends in /v1/traces,
// else `endpoint` with "/v1/traces" appended (the OTEL_EXPORTER_OTLP_ENDPOINT rule).
[[nodiscard]] std::string traces_url(std::string_view endpoint);

// `url` without user:password@, query and fragment: safe to log.
[[nodiscard]] std::string loggable_url(std::string_view url);

}  // namespace grok::obs
