// `grok queue stats|dead|retry`: read and repair the queue of an existing database.
#include <iostream>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/text.h"
#include "store/open_store.h"

namespace grok::cli {
namespace {

result<std::unique_ptr<store::store>> open_existing(const config& c) {
  return store::open_store({.url = c.effective_db(), .create_if_missing = false, .migrate = false});
}

std::string format_time(time_point t) { return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", t); }

}  // namespace

int run_queue_stats(const config& c, bool json) {
  auto st = open_existing(c);
  if (!st) return report_error(describe(st.error()));
  auto stats = (*st)->get_queue_stats();
  if (!stats) return report_error(describe(stats.error()));

  if (json) {
    nlohmann::json out;
    out["depth"] = nlohmann::json::array();
    for (const auto& d : stats->depth) {
      out["depth"].push_back(
          {{"topic", d.topic}, {"state", store::to_string(d.state)}, {"count", d.count}});
    }
    out["visible"] = stats->visible;
    out["oldest_visible_lag_ms"] = stats->oldest_visible_lag
                                       ? nlohmann::json(stats->oldest_visible_lag->count())
                                       : nlohmann::json(nullptr);
    std::cout << out.dump() << "\n";
    return k_exit_ok;
  }
  if (stats->depth.empty()) {
    std::cout << "queue is empty\n";
    return k_exit_ok;
  }
  std::cout << fmt::format("{:<32} {:<8} {:>10}\n", "TOPIC", "STATE", "JOBS");
  for (const auto& d : stats->depth) {
    std::cout << fmt::format("{:<32} {:<8} {:>10}\n", one_line(d.topic, 32),
                             store::to_string(d.state), d.count);
  }
  std::cout << fmt::format("\nvisible now: {}", stats->visible);
  if (stats->oldest_visible_lag) {
    std::cout << fmt::format(", oldest waiting {:.3f} s",
                             static_cast<double>(stats->oldest_visible_lag->count()) / 1000.0);
  }
  std::cout << "\n";
  return k_exit_ok;
}

int run_queue_dead(const config& c, int limit, bool json) {
  auto st = open_existing(c);
  if (!st) return report_error(describe(st.error()));
  auto jobs = (*st)->list_jobs({.state = store::job_state::dead, .after = 0, .limit = limit});
  if (!jobs) return report_error(describe(jobs.error()));

  if (json) {
    auto out = nlohmann::json::array();
    for (const auto& j : *jobs) {
      out.push_back(
          {{"id", j.id},
           {"topic", j.topic},
           {"attempts", j.attempts},
           {"max_attempts", j.max_attempts},
           {"last_error", j.last_error ? nlohmann::json(*j.last_error) : nlohmann::json(nullptr)},
           {"created_at", format_time(j.created_at)},
           {"updated_at", format_time(j.updated_at)}});
    }
    std::cout << out.dump() << "\n";
    return k_exit_ok;
  }
  if (jobs->empty()) {
    std::cout << "no dead jobs\n";
    return k_exit_ok;
  }
  std::cout << fmt::format("{:>10} {:<24} {:>8} {:<20} {}\n", "ID", "TOPIC", "ATTEMPTS", "DIED",
                           "LAST ERROR");
  for (const auto& j : *jobs) {
    std::cout << fmt::format("{:>10} {:<24} {:>8} {:<20} {}\n", j.id, one_line(j.topic, 24),
                             fmt::format("{}/{}", j.attempts, j.max_attempts),
                             format_time(j.updated_at), one_line(j.last_error.value_or(""), 100));
  }
  return k_exit_ok;
}

int run_queue_retry(const config& c, std::int64_t job_id) {
  auto st = open_existing(c);
  if (!st) return report_error(describe(st.error()));
  if (auto r = (*st)->requeue_dead(job_id); !r) return report_error(r.error().message);
  std::cout << "job " << job_id << " requeued\n";
  return k_exit_ok;
}

}  // namespace grok::cli
