// Retention (SPEC §7): deletes runs that ended before a cutoff, with everything recorded
// about them, and the finished queue jobs nobody needs any more, in small batches so that a
// server using the same store is never held up for long. Used by `grok prune` and the
// schedule in `grok serve`; the batches themselves are the store's (store.h, "retention").
//
// Thread-safety: prune_store may run on any thread, beside any other use of the store.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/retention_types.h"

namespace grok::store {

class store;

// The largest batch a caller may ask for: a batch is one transaction, and the point of
// batches is that each stays short.
inline constexpr int k_max_prune_batch = 10'000;
// Jobs are single small rows: each job batch looks at this many times the run batch.
inline constexpr int k_job_batch_factor = 10;

struct prune_request {
  time_point cutoff;     // runs and jobs that ended before this go
  int batch_size = 100;  // runs per transaction (1..k_max_prune_batch)
  bool dry_run = false;  // count what would go; delete nothing
  // Called after each committed batch with the totals so far.
  std::function<void(const prune_counts&)> on_progress;
  // When set, the files of the artifacts whose rows went (and that no other artifact row
  // names) are removed after each batch commits, if they lie inside this directory and are
  // not one of `protect` (see remove_artifact_files).
  std::filesystem::path artifacts_root;
  std::vector<std::filesystem::path> protect;
  // Checked between batches: true stops early (what was committed stays deleted).
  std::function<bool()> should_stop;
};

// Prunes runs, then jobs (a job can go once its run has gone). Returns the totals; on an
// error, the batches committed before it stay committed. errc::invalid_argument for a
// batch size out of range.
[[nodiscard]] result<prune_counts> prune_store(store& st, const prune_request& request);

// Removes the files that artifact URIs name, when they are inside `data_dir`: a plain path
// (relative ones are taken relative to `data_dir`) or a file:// URI naming a regular file.
// A URI of another scheme, or a path that leads outside `data_dir` (by "..", or by a
// symbolic link anywhere on the way), is left alone: retention never deletes anything
// outside the data directory, and so are the `protect` paths (the database and its
// companion files). Returns how many files were removed.
std::int64_t remove_artifact_files(const std::filesystem::path& data_dir,
                                   const std::vector<std::string>& uris,
                                   const std::vector<std::filesystem::path>& protect = {});

}  // namespace grok::store
