#include "queue/worker_pool.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <exception>

#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "obs/metrics.h"

namespace grok::queue {
namespace {

// What the workers did, by topic, for /metrics (process-wide, like the registry; topics
// are the registered handlers', a bounded set).
struct pool_metrics {
  obs::counter_family& succeeded;
  obs::counter_family& retried;
  obs::counter_family& dead_lettered;
  obs::counter_family& lost_leases;
  obs::histogram_family& duration;
};

pool_metrics& metrics() {
  static pool_metrics m{
      obs::metrics().counter("grok_queue_jobs_succeeded_total",
                             "Jobs finished and acked, by topic.", {"topic"}),
      obs::metrics().counter("grok_queue_retries_total",
                             "Job attempts that failed and were put back with a delay, by topic.",
                             {"topic"}),
      obs::metrics().counter(
          "grok_queue_dead_letters_total",
          "Jobs dead-lettered (out of attempts or failed permanently), by topic.", {"topic"}),
      obs::metrics().counter("grok_queue_lost_leases_total",
                             "Jobs whose ack or nack was refused because the lease had expired, by "
                             "topic.",
                             {"topic"}),
      obs::metrics().histogram("grok_queue_job_duration_seconds",
                               "Time a handler took for one job attempt, by topic.", {"topic"})};
  return m;
}

std::string default_worker_prefix() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  // The pid alone repeats across restarts; a short random tail keeps worker ids unique.
  auto tail = new_id("w", system_clock::instance().now()).substr(20);
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + tail;
}

}  // namespace

worker_pool_options worker_pool_options::from_config(const config& c) {
  worker_pool_options o;
  o.workers = c.workers;
  o.lease = c.queue.lease;
  o.backoff = {c.queue.backoff_base, c.queue.backoff_cap};
  o.idle_recheck = c.queue.idle_recheck;
  return o;
}

worker_pool::worker_pool(store::store& s, worker_pool_options options)
    : store_(s), options_(std::move(options)) {
  if (options_.worker_prefix.empty()) options_.worker_prefix = default_worker_prefix();
  options_.workers = std::max(options_.workers, 0);  // 0: no workers (API-only processes)
  options_.claim_batch = std::clamp(options_.claim_batch, 1, 1000);
  (void)metrics();  // registered now, so that /metrics lists them before the first job
}

worker_pool::~worker_pool() { stop(); }

void worker_pool::register_handler(std::string topic, job_handler handler) {
  if (!running()) handlers_[std::move(topic)] = std::move(handler);
}

void worker_pool::start() {
  if (running()) return;
  stopping_ = false;
  topics_.clear();
  for (const auto& [topic, handler] : handlers_) topics_.push_back(topic);
  for (int i = 0; i < options_.workers; ++i) {
    auto id = options_.worker_prefix + "/" + std::to_string(i);
    threads_.emplace_back([this, id](const std::stop_token& stop) { run_worker(stop, id); });
  }
  if (options_.workers > 0) {
    keeper_ = std::jthread([this](const std::stop_token& stop) { keep_leases(stop); });
  }
}

void worker_pool::stop() {
  if (!running()) return;
  stopping_ = true;
  for (auto& t : threads_) t.request_stop();
  store_.jobs_signal().notify();  // wake sleepers so they see the stop
  threads_.clear();               // joins: every claimed job is finished
  if (keeper_.joinable()) {
    keeper_.request_stop();
    keeper_.join();
  }
}

void worker_pool::keep_leases(const std::stop_token& stop) {
  const auto every = std::max(options_.lease / 3, millis(1));
  std::unique_lock lock(held_mutex_);
  while (!stop.stop_requested()) {
    keeper_wake_.wait_for(lock, stop, every, [] { return false; });
    if (stop.stop_requested()) break;
    std::vector<store::lease> leases;
    for (const auto& [id, held] : held_) leases.push_back(held);
    lock.unlock();
    for (const auto& held : leases) {
      if (auto r = store_.extend_lease(held, options_.lease); !r) {
        // Lost (another worker took the job after a stall) or a store error: the handler's
        // final transaction finds out and changes nothing; say so once here.
        std::lock_guard again(held_mutex_);
        if (held_.erase(held.id) > 0) {  // not finished meanwhile
          spdlog::warn("job {}: could not extend its lease: {}", held.id, describe(r.error()));
        }
      }
    }
    lock.lock();
  }
}

worker_pool_counters worker_pool::counters() const {
  return {succeeded_.load(), retried_.load(), dead_lettered_.load(), lost_leases_.load(),
          store_errors_.load()};
}

void worker_pool::idle_wait(std::uint64_t seen_generation) {
  auto wait = options_.idle_recheck;
  if (auto next = store_.next_visible_at(topics_); next && *next) {
    auto until_due = **next - store_.store_clock().now();
    wait = std::clamp(until_due, millis(1), options_.idle_recheck);
  }
  store_.jobs_signal().wait_for_change(seen_generation, wait);
}

void worker_pool::run_worker(const std::stop_token& stop, const std::string& worker_id) {
  const store::claim_request request{topics_, worker_id, options_.lease, options_.claim_batch};
  while (!stop.stop_requested()) {
    // Read the generation before claiming, so an enqueue that commits after our empty
    // claim still wakes us.
    const auto generation = store_.jobs_signal().generation();
    if (stopping_) break;
    if (topics_.empty()) {  // nothing registered yet: stay idle until stopped
      store_.jobs_signal().wait_for_change(generation, options_.idle_recheck);
      continue;
    }
    auto jobs = store_.claim(request);
    if (!jobs) {
      ++store_errors_;
      spdlog::warn("worker {}: claim failed: {}", worker_id, describe(jobs.error()));
      store_.jobs_signal().wait_for_change(generation,
                                           std::min(options_.idle_recheck, millis(500)));
      continue;
    }
    if (jobs->empty()) {
      idle_wait(generation);
      continue;
    }
    // Jobs already claimed are finished even when a stop arrives meanwhile (drain).
    for (const auto& j : *jobs) process(j, stop);
  }
}

void worker_pool::process(const store::job& j, const std::stop_token& stop) {
  job_outcome outcome;
  job_context ctx{j, stop, store_, options_.lease};
  {
    std::lock_guard lock(held_mutex_);
    held_[j.id] = j.held_lease();
  }
  // The lease is kept until the handler returns (exceptions are caught below); the ack
  // or nack after that ends it.
  auto it = handlers_.find(j.topic);
  if (it == handlers_.end()) {
    outcome = job_outcome::fail_permanently("no handler for topic " + j.topic);
  } else {
    // The worker loop is one of the edges where exceptions are caught and converted: a
    // throwing handler is a failed attempt, retried like any other.
    const auto started = std::chrono::steady_clock::now();
    try {
      outcome = it->second(ctx);
    } catch (const std::exception& e) {
      outcome = job_outcome::retry_later(std::string("handler threw: ") + e.what());
    } catch (...) {
      outcome = job_outcome::retry_later("handler threw a non-standard exception");
    }
    metrics().duration.observe(
        {j.topic},
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  {
    std::lock_guard lock(held_mutex_);
    held_.erase(j.id);
  }

  const auto held = j.held_lease();
  if (outcome.what == job_outcome::kind::done) {
    if (ctx.acked) {
      ++succeeded_;
      metrics().succeeded.inc({j.topic});
      return;
    }
    if (auto r = store_.ack(held); r) {
      ++succeeded_;
      metrics().succeeded.inc({j.topic});
    } else if (r.error().code == errc::conflict) {
      ++lost_leases_;
      metrics().lost_leases.inc({j.topic});
      spdlog::warn("job {} finished after its lease was lost: {}", j.id, r.error().message);
    } else {
      ++store_errors_;
      spdlog::error("job {}: ack failed: {}", j.id, describe(r.error()));
    }
    return;
  }

  store::nack_request req;
  req.held = held;
  req.error = outcome.error;
  req.permanent = outcome.what == job_outcome::kind::fail;
  req.retry_delay = outcome.retry_after.value_or(retry_delay(options_.backoff, j.attempts));
  auto r = store_.nack(req);
  if (!r) {
    if (r.error().code == errc::conflict) {
      ++lost_leases_;
      metrics().lost_leases.inc({j.topic});
    } else {
      ++store_errors_;
      spdlog::error("job {}: nack failed: {}", j.id, describe(r.error()));
    }
    return;
  }
  if (*r == store::nack_outcome::dead) {
    ++dead_lettered_;
    metrics().dead_lettered.inc({j.topic});
    spdlog::warn("job {} ({}) dead-lettered after {} attempt(s): {}", j.id, j.topic, j.attempts,
                 outcome.error);
  } else {
    ++retried_;
    metrics().retried.inc({j.topic});
    spdlog::info("job {} ({}) attempt {} failed, retrying in {} ms: {}", j.id, j.topic, j.attempts,
                 req.retry_delay.count(), outcome.error);
  }
}

}  // namespace grok::queue
