// The process figures of /metrics under the standard Prometheus names (the ones every
// client library exports, so existing dashboards work): process_cpu_seconds_total,
// process_resident_memory_bytes, process_virtual_memory_bytes, process_start_time_seconds,
// process_open_fds and process_max_fds. Linux only: read from /proc/self/stat, /proc/stat
// (boot time), /proc/self/fd and the RLIMIT_NOFILE soft limit.
//
// Thread-safety: both functions may be called from any thread; they share no state
// besides the registry (itself thread-safe).
#pragma once

#include "core/result.h"
#include "obs/metrics.h"

namespace grok::obs {

struct process_figures {
  double cpu_seconds = 0;  // user + system time
  double resident_memory_bytes = 0;
  double virtual_memory_bytes = 0;
  double start_time_seconds = 0;  // since the Unix epoch
  double open_fds = 0;
  double max_fds = 0;
};

// This process's figures now. errc::io when /proc cannot be read or parsed.
[[nodiscard]] result<process_figures> read_process_figures();

// Sets the process_* metrics of `r` from read_process_figures() (a scrape-time collector).
// When /proc cannot be read they are removed rather than left stale; the counter
// process_cpu_seconds_total keeps its last value, which never goes down.
void update_process_metrics(registry& r);

}  // namespace grok::obs
