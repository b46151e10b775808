#include "store/queue_types.h"
#include "store/run_types.h"

namespace grok::store {

std::string_view to_string(job_state s) noexcept {
  switch (s) {
    case job_state::ready:
      return "ready";
    case job_state::leased:
      return "leased";
    case job_state::done:
      return "done";
    case job_state::dead:
      return "dead";
  }
  return "unknown";
}

std::optional<job_state> parse_job_state(std::string_view s) noexcept {
  for (auto st : {job_state::ready, job_state::leased, job_state::done, job_state::dead}) {
    if (to_string(st) == s) return st;
  }
  return std::nullopt;
}

std::string_view to_string(run_status s) noexcept {
  switch (s) {
    case run_status::queued:
      return "queued";
    case run_status::running:
      return "running";
    case run_status::awaiting_input:
      return "awaiting_input";
    case run_status::completed:
      return "completed";
    case run_status::failed:
      return "failed";
    case run_status::cancelled:
      return "cancelled";
  }
  return "unknown";
}

std::optional<run_status> parse_run_status(std::string_view s) noexcept {
  for (auto st : {run_status::queued, run_status::running, run_status::awaiting_input,
                  run_status::completed, run_status::failed, run_status::cancelled}) {
    if (to_string(st) == s) return st;
  }
  return std::nullopt;
}

bool is_terminal(run_status s) noexcept {
  return s == run_status::completed || s == run_status::failed || s == run_status::cancelled;
}

}  // namespace grok::store
