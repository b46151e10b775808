// Value types of retention (SPEC §7): what pruning removed, or in a dry run would remove.
// The store methods that use them are in store.h ("retention"); store/retention.h drives
// them in batches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/queue_types.h"

namespace grok::store {

// Rows removed by a prune (or counted by a dry run).
struct prune_counts {
  std::int64_t runs = 0;
  std::int64_t steps = 0;
  std::int64_t events = 0;
  std::int64_t llm_calls = 0;
  std::int64_t artifacts = 0;
  std::int64_t jobs = 0;
  std::int64_t artifact_files = 0;  // files removed from the data directory

  prune_counts& operator+=(const prune_counts& other) noexcept {
    runs += other.runs;
    steps += other.steps;
    events += other.events;
    llm_calls += other.llm_calls;
    artifacts += other.artifacts;
    jobs += other.jobs;
    artifact_files += other.artifact_files;
    return *this;
  }
  friend bool operator==(const prune_counts&, const prune_counts&) = default;
};

// One committed batch of store::prune_runs.
struct prune_batch {
  prune_counts removed;  // jobs is always 0 here (see store::prune_jobs)
  // URIs of the deleted artifacts that no remaining artifact row names: the files the caller
  // may now remove (store/retention.h: remove_artifact_files).
  std::vector<std::string> orphaned_uris;
};

// One committed batch of store::prune_jobs.
struct job_prune_batch {
  std::int64_t deleted = 0;
  job_id scanned_to = 0;  // the cursor for the next batch
  bool finished = false;  // nothing older than the cutoff is left to look at
};

}  // namespace grok::store
