// The `grok` subcommands. Each returns the process exit code and prints errors to stderr
// as one line. Only this folder wires concrete components (store backend, worker pool)
// together.
#pragma once

#include <cstdint>

#include "core/config.h"

namespace grok::cli {

enum exit_code : int { k_exit_ok = 0, k_exit_error = 1, k_exit_usage = 2 };

// Opens the store, migrates, starts the workers and runs until SIGINT or SIGTERM, then
// drains and exits 0.
int run_serve(const config& c);
int run_migrate(const config& c);
int run_queue_stats(const config& c, bool json);
int run_queue_dead(const config& c, int limit, bool json);
int run_queue_retry(const config& c, std::int64_t job_id);

// Sets up the process logger (stderr) at the configured level.
void init_logging(const config& c);

// Prints "grok: error: <message>" to stderr; returns k_exit_error.
int report_error(const std::string& message);

}  // namespace grok::cli
