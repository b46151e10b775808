// `grok serve`: open and migrate the store, run the workers and the HTTP API, wait for
// SIGINT/SIGTERM, drain, exit.
#include <pthread.h>
#include <signal.h>

#include <filesystem>
#include <iostream>
#include <vector>

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "api/http_metrics.h"
#include "api/rate_limiter.h"
#include "api/redis_rate_limiter.h"
#include "api/service.h"
#include "api/stream_hub.h"
#include "api/ui_assets.h"
#include "cli/commands.h"
#include "cli/config_loader.h"
#include "cli/model_probe.h"
#include "cli/runtime.h"
#include "cli/serve_parts.h"
#include "core/version.h"
#include "http/server.h"
#include "obs/metrics.h"
#include "queue/worker_pool.h"
#include "store/open_store.h"
#include "store/postgres/pg_store.h"

namespace grok::cli {
namespace {

// The shared Redis limiter when GROK_REDIS_URL is set (it starts degraded, limiting
// in-process, while Redis is unreachable), else in-process buckets.
result<std::unique_ptr<api::rate_limiter>> make_limiter(const config& c, const clock& clk) {
  const api::rate_limit_config limits{.per_second = c.http.rate_per_second,
                                      .burst = c.http.rate_burst};
  if (c.redis_url.empty()) return api::make_local_rate_limiter(limits, clk);
  return api::make_redis_rate_limiter(c.redis_url, limits, clk);
}

// The web UI's files: null when [ui] enabled = false; GROK_UI_DIR read once, or the
// files built into the binary (an empty table when none were).
result<std::shared_ptr<const api::ui_assets>> load_ui(const config& c) {
  if (!c.ui.enabled) return nullptr;
  auto assets = c.ui.dir.empty() ? api::ui_assets::from_embedded(api::embedded_ui_files())
                                 : api::ui_assets::load_dir(c.ui.dir);
  if (!assets) return fail(assets.error().code, "ui: " + assets.error().message);
  return std::make_shared<const api::ui_assets>(std::move(*assets));
}

std::string describe_ui(const api::ui_assets* ui) {
  if (ui == nullptr) return "web UI off";
  if (ui->empty())
    return "no web UI (not built into this binary; set GROK_UI_DIR or run make serve)";
  const auto n = std::to_string(ui->files().size()) + " files";
  if (ui->source() == "embedded") return "web UI embedded (" + n + ")";
  return "web UI from " + ui->source() + " (" + n + ")";
}

// The stop signals, blocked in every thread (called before any thread starts, so that
// all inherit the mask) so that only sigwait() receives them.
sigset_t block_stop_signals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
}

// On PostgreSQL, whether this process hears other processes' commits (LISTEN): without it,
// streams miss the events of runs other processes execute and workers miss wake-ups.
std::vector<api::readiness_check> store_checks(store::store& st) {
  std::vector<api::readiness_check> out;
  if (auto* pg = dynamic_cast<store::postgres::pg_store*>(&st)) {
    const bool up = pg->listener_connected();
    out.push_back({"database_notifications", up, true,
                   up ? "LISTEN connection up" : "LISTEN connection down; reconnecting"});
  }
  return out;
}

// The worker's small HTTP surface: metrics and health only, no key needed (bind it to an
// address only the scraper reaches).
api::http_response worker_http(api::http_request& r, store::store& st) {
  api::http_response out;
  const auto path = std::string_view(r.target).substr(0, r.target.find('?'));
  if (r.method != "GET" && r.method != "HEAD") {
    out.status = 405;
    out.headers.emplace_back("Allow", "GET, HEAD");
    out.body = "method not allowed\n";
  } else if (path == "/metrics") {
    out.headers.emplace_back("Content-Type", std::string(api::k_prometheus_content_type));
    out.body = obs::metrics().render();
  } else if (path == "/healthz") {
    out.headers.emplace_back("Content-Type", "application/json");
    out.body = R"({"status":"ok"})";
  } else if (path == "/readyz") {
    auto db = st.get_job(0);
    bool ready = db.has_value();
    nlohmann::json checks = nlohmann::json::array();
    checks.push_back({{"name", "database"},
                      {"ok", ready},
                      {"required", true},
                      {"detail", ready ? "ok" : describe(db.error())}});
    for (const auto& c : store_checks(st)) {
      ready = ready && (c.ok || !c.required);
      checks.push_back(
          {{"name", c.name}, {"ok", c.ok}, {"required", c.required}, {"detail", c.detail}});
    }
    out.status = ready ? 200 : 503;
    out.headers.emplace_back("Content-Type", "application/json");
    out.body = nlohmann::json{{"ready", ready}, {"checks", checks}}.dump();
  } else {
    out.status = 404;
    out.body = "not found: this is a grok worker (GET /metrics, /healthz, /readyz)\n";
  }
  if (r.method == "HEAD") out.body.clear();
  return out;
}

}  // namespace

int run_serve(const config& c) {
  const sigset_t stop_signals = block_stop_signals();

  spdlog::info("grok {} starting: {}", k_version, describe_config(c));
  auto ui = load_ui(c);
  if (!ui) return report_error(describe(ui.error()));
  auto rt = make_runtime(c);
  if (!rt) return report_error(describe(rt.error()));
  auto& st = *(*rt)->store;

  auto first_key = ensure_admin_key(st);
  if (!first_key) return report_error(describe(first_key.error()));
  if (*first_key) {
    // Shown once: alone on stdout so that a script can capture it.
    spdlog::warn(
        "no API key existed: created an admin key. It is printed once on stdout; create more "
        "with `grok keys create`.");
    std::cout << **first_key << "\n" << std::flush;
  }

  // Started before the API and the workers so that they see every event (run.created of
  // the first request included); stopped after them.
  std::vector<serve_part_ptr> parts;
  for (auto* start : {&start_metrics, &start_tracing, &start_audit, &start_maintenance}) {
    auto part = (*start)(c, **rt);
    if (!part) return report_error(describe(part.error()));
    parts.push_back(std::move(*part));
  }

  auto limiter = make_limiter(c, st.store_clock());
  if (!limiter) return report_error(describe(limiter.error()));
  api::stream_hub hub(st, {.max_buffer_bytes = c.http.stream_buffer_bytes});
  model_probe models(c.llm_base_url);
  api::service service(
      {.store = st,
       .engine = *(*rt)->engine,
       .hub = hub,
       .limiter = **limiter,
       .clock = st.store_clock(),
       .readiness =
           [&models, &st] {
             auto checks = store_checks(st);
             checks.push_back(models.check());
             return checks;
           }},
      {.cors_origins = c.http.cors_origins,
       .signing_secret = c.signing_secret,
       .max_body_bytes = c.http.max_body_bytes,
       .rate_limit = {.per_second = c.http.rate_per_second, .burst = c.http.rate_burst},
       .ui = *ui});
  auto server = http::server::start(c.listen, c.http,
                                    [&service](api::http_request& r) { return service.handle(r); });
  if (!server) return report_error(describe(server.error()));

  auto& workers = *(*rt)->workers;
  // Unfinished runs resume here: their jobs are in the queue (leases of a process that
  // died expire and are claimed again).
  workers.start();
  spdlog::info(
      "ready: listening on {} (port {}), database {}, {} worker(s){}, {}; send SIGINT or "
      "SIGTERM to stop",
      c.listen, (*server)->port(), store::redact_db_url(c.effective_db()), c.workers,
      c.workers == 0 ? " (API only: runs wait for a `grok worker`)" : "", describe_ui(ui->get()));

  int received = 0;
  sigwait(&stop_signals, &received);
  spdlog::info("received {}, draining requests, streams and workers",
               received == SIGINT ? "SIGINT" : "SIGTERM");
  // Streams end first (SSE ends, WebSocket closes 1001) so that the transport's drain
  // does not wait for them; in-flight requests finish; then the workers stop.
  hub.shutdown();
  (*server)->stop();
  workers.stop();
  while (!parts.empty()) parts.pop_back();  // in reverse order of starting
  const auto counters = workers.counters();
  spdlog::info("stopped cleanly: {} job(s) done, {} retried, {} dead-lettered", counters.succeeded,
               counters.retried, counters.dead_lettered);
  return k_exit_ok;
}

int run_worker(const config& c, const std::optional<std::string>& metrics_listen) {
  const sigset_t stop_signals = block_stop_signals();
  spdlog::info("grok {} worker starting: {}", k_version, describe_config(c));
  if (c.workers < 1) return report_error("grok worker needs --workers 1 or more");
  const bool postgres = c.effective_db().rfind("postgres", 0) == 0;
  auto rt = make_runtime(c, nullptr, {.follow_events = false});
  if (!rt) return report_error(describe(rt.error()));
  auto& st = *(*rt)->store;
  // Metrics, traces and the audit log of what this process commits (its steps).
  std::vector<serve_part_ptr> parts;
  for (auto* start : {&start_metrics, &start_tracing, &start_audit}) {
    auto part = (*start)(c, **rt);
    if (!part) return report_error(describe(part.error()));
    parts.push_back(std::move(*part));
  }
  std::unique_ptr<http::server> http;
  if (metrics_listen) {
    auto started = http::server::start(*metrics_listen, c.http,
                                       [&st](api::http_request& r) { return worker_http(r, st); });
    if (!started) return report_error(describe(started.error()));
    http = std::move(*started);
    spdlog::info("metrics: GET http://{}/metrics (port {})", *metrics_listen, http->port());
  }
  if (!postgres) {
    spdlog::warn(
        "grok worker on SQLite: jobs enqueued by another process are noticed by polling "
        "(queue.idle_recheck_ms), not at once; PostgreSQL wakes workers with LISTEN/NOTIFY");
  }
  auto& workers = *(*rt)->workers;
  workers.start();
  spdlog::info("ready: {} worker(s) on database {}; send SIGINT or SIGTERM to stop", c.workers,
               store::redact_db_url(c.effective_db()));
  int received = 0;
  sigwait(&stop_signals, &received);
  spdlog::info("received {}, finishing the jobs in hand",
               received == SIGINT ? "SIGINT" : "SIGTERM");
  workers.stop();
  if (http) http->stop();
  while (!parts.empty()) parts.pop_back();  // in reverse order of starting
  const auto counters = workers.counters();
  spdlog::info("stopped cleanly: {} job(s) done, {} retried, {} dead-lettered", counters.succeeded,
               counters.retried, counters.dead_lettered);
  return k_exit_ok;
}

int run_migrate(const config& c) {
  auto applied = store::migrate_store(c.effective_db());
  if (!applied) return report_error(describe(applied.error()));
  spdlog::info("database {}: {} migration(s) applied; schema is current",
               store::redact_db_url(c.effective_db()), *applied);
  return k_exit_ok;
}

}  // namespace grok::cli
