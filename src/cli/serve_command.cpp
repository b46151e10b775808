// `grok serve`: open and migrate the store, run the workers, wait for SIGINT/SIGTERM,
// drain, exit.
#include <pthread.h>
#include <signal.h>

#include <filesystem>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/config_loader.h"
#include "cli/runtime.h"
#include "core/version.h"
#include "queue/worker_pool.h"
#include "store/open_store.h"

namespace grok::cli {

int run_serve(const config& c) {
  // Block the stop signals before any thread starts, so every thread inherits the mask
  // and only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  spdlog::info("grok {} starting: {}", k_version, describe_config(c));
  auto rt = make_runtime(c);
  if (!rt) return report_error(describe(rt.error()));
  auto& workers = *(*rt)->workers;
  // Unfinished runs resume here: their jobs are in the queue (leases of a process that
  // died expire and are claimed again).
  workers.start();
  spdlog::info("ready: database {}, {} worker(s); send SIGINT or SIGTERM to stop", c.effective_db(),
               c.workers);

  int received = 0;
  sigwait(&stop_signals, &received);
  spdlog::info("received {}, draining workers", received == SIGINT ? "SIGINT" : "SIGTERM");
  workers.stop();
  const auto counters = workers.counters();
  spdlog::info("stopped cleanly: {} job(s) done, {} retried, {} dead-lettered", counters.succeeded,
               counters.retried, counters.dead_lettered);
  return k_exit_ok;
}

int run_migrate(const config& c) {
  auto applied = store::migrate_store(c.effective_db());
  if (!applied) return report_error(describe(applied.error()));
  spdlog::info("database {}: {} migration(s) applied; schema is current", c.effective_db(),
               *applied);
  return k_exit_ok;
}

}  // namespace grok::cli
