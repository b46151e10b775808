// Checks an audit log (obs/audit_log.h) for edits, removals and reordering: walks every
// file in order, recomputes each line's hash, and checks the prev links, audit_seq
// continuity and that each file begins with its own header line. Stops at the first bad
// line and says where and what: edited, removed (a gap), reordered, bad JSON, truncated.
//
// When rotation has deleted the oldest files, the walk starts at the oldest file left
// (its header chains to a line that is gone): that is reported, not an error. A torn
// line that the writer recorded on its next start (audit.file "recovered") is noted, not
// an error; a torn last line nobody recorded is "truncated".
//
// Thread-safety: a pure function of the files; it reads them without locking, so a log
// being written may end in a line not yet complete (reported as truncated).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace grok::obs {

struct audit_problem {
  std::string file;       // file name
  std::int64_t line = 0;  // 1-based line in that file
  std::string reason;     // "edited: …", "removed: …", "reordered: …", "bad JSON: …", …
};

struct audit_verify_report {
  std::vector<std::string> files;  // names, oldest first
  std::int64_t lines = 0;          // audit lines checked
  std::int64_t events = 0;         // of which run events
  std::int64_t first_audit_seq = 0, last_audit_seq = 0;
  std::string first_ts, last_ts;         // of the first and last run event
  std::int64_t keyed_lines = 0;          // HMAC-SHA256
  std::int64_t unkeyed_lines = 0;        // SHA-256
  bool starts_after_rotation = false;    // the oldest files were deleted by rotation
  std::int64_t events_dropped = 0;       // as recorded by audit.dropped lines
  std::vector<std::string> notes;        // torn lines recovered, drops, empty files
  std::optional<audit_problem> problem;  // the first bad line; none: intact

  [[nodiscard]] bool intact() const { return !problem.has_value(); }
};

// Verifies the log in `dir` with `secret` (empty: no key). errc::not_found when the
// directory does not exist or holds no audit files; errc::invalid_argument when the log
// is keyed and no secret is given; errc::io when a file cannot be read.
[[nodiscard]] result<audit_verify_report> verify_audit_log(const std::string& dir,
                                                           std::string_view secret);

}  // namespace grok::obs
