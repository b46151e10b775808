// Value types of the durable job queue (SPEC §6), shared by every store backend.
//
// Semantics, identical on every backend:
// - A job is `ready` until claimed; a claim makes it `leased` to one worker until
//   `visible_after` (the lease's end), and increments `attempts`.
// - A leased job whose lease ran out is claimable again, unless it has used all its
//   attempts, in which case the next claim on its topic moves it to `dead`.
// - ack → `done`. nack → `ready` again after the given delay, or `dead` when permanent or
//   when attempts reached max_attempts. A dead job can be requeued (attempts reset).
// - Only the holder of the current lease (worker id + lease number, see `lease`) may
//   ack, nack or extend it; anyone else gets errc::conflict.
// - A dedupe key is unique per topic, forever: enqueueing it again returns the first job.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace grok::store {

using job_id = std::int64_t;

enum class job_state { ready, leased, done, dead };

std::string_view to_string(job_state s) noexcept;
std::optional<job_state> parse_job_state(std::string_view s) noexcept;

struct job_spec {
  std::string topic;
  std::string payload;
  std::optional<std::string> dedupe_key;
  int max_attempts = 5;
  millis delay{0};  // the job becomes visible this long after enqueue
};

struct enqueue_result {
  job_id id = 0;
  bool created = false;  // false: the dedupe key already named this job
};

// Proof of a claim. `seq` counts every claim of the job and is never reset (not even by a
// requeue, which resets `attempts`), so it fences off a worker whose lease expired and whose
// job was claimed again, by someone else or by itself.
struct lease {
  job_id id = 0;
  std::string worker_id;
  std::int64_t seq = 0;
};

struct job {
  job_id id = 0;
  std::string topic;
  std::string payload;
  std::optional<std::string> dedupe_key;
  job_state state = job_state::ready;
  int attempts = 0;
  int max_attempts = 0;
  std::int64_t lease_seq = 0;  // claims ever made of this job
  time_point visible_after;
  std::optional<std::string> locked_by;
  std::optional<time_point> locked_at;
  std::optional<std::string> last_error;
  time_point created_at;
  time_point updated_at;

  // The lease this job was claimed under (meaningful only when state == leased).
  [[nodiscard]] lease held_lease() const { return {id, locked_by.value_or(""), lease_seq}; }
};

struct claim_request {
  std::vector<std::string> topics;  // at least one
  std::string worker_id;
  millis lease_for{30'000};
  int limit = 1;  // claim up to this many jobs in one transaction
};

struct nack_request {
  lease held;
  std::string error;
  millis retry_delay{0};   // computed by the caller's backoff policy
  bool permanent = false;  // dead-letter now, whatever the attempts left
};

enum class nack_outcome { retry_scheduled, dead };

struct queue_depth {
  std::string topic;
  job_state state = job_state::ready;
  std::int64_t count = 0;
};

struct queue_stats {
  std::vector<queue_depth> depth;  // one row per (topic, state) present, sorted
  std::int64_t visible = 0;        // jobs claimable right now
  // How long the oldest claimable job has been waiting; empty when none is claimable.
  std::optional<millis> oldest_visible_lag;
};

struct job_page_request {
  std::optional<job_state> state;  // empty: any state
  job_id after = 0;                // cursor: ids greater than this
  int limit = 100;
};

}  // namespace grok::store
