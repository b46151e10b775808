// The optional parts of `grok serve` beside the API and the workers: metrics collectors,
// trace export, the audit log and the maintenance schedule (retention, backups). Each is
// started before the workers, so that it sees every event they commit, and stopped after
// them (its destructor drains what it still holds).
//
// Thread-safety: start_* are called once, from the thread running `grok serve`.
#pragma once

#include <memory>

#include "cli/runtime.h"
#include "core/config.h"
#include "core/result.h"

namespace grok::cli {

// A running part; destroying it stops it.
class serve_part {
 public:
  virtual ~serve_part() = default;
};
using serve_part_ptr = std::unique_ptr<serve_part>;

// Scrape-time collectors (queue depth and lag, process figures) and the run and step
// metrics taken from the event feed (cli/serve_metrics.cpp).
[[nodiscard]] result<serve_part_ptr> start_metrics(const config& c, runtime& rt);
// OTLP/HTTP trace export when an endpoint is configured; nothing otherwise
// (cli/serve_tracing.cpp).
[[nodiscard]] result<serve_part_ptr> start_tracing(const config& c, runtime& rt);
// The audit log of every run event (cli/serve_audit.cpp).
[[nodiscard]] result<serve_part_ptr> start_audit(const config& c, runtime& rt);
// Scheduled pruning and backups (cli/serve_maintenance.cpp).
[[nodiscard]] result<serve_part_ptr> start_maintenance(const config& c, runtime& rt);

}  // namespace grok::cli
