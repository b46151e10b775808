// The audit log (SPEC §7): every run event committed in this process, one JSON line each,
// appended to files under the audit directory, with fields outside an allow-list
// redacted and every line hash-chained to the one before (format: obs/audit_format.h;
// checking: obs/audit_verify.h, `grok audit verify`).
//
// Flow: the store's event feed calls submit() on the committing thread, which only moves
// the events into a bounded queue and returns. One writer thread takes everything queued
// (a batch), redacts and seals each line in commit order, appends the batch with one
// write() per file and calls fdatasync() once per batch. Once per batch (not per second)
// because it is group commit: when events arrive slowly each one is on disk within one
// sync, and when they arrive fast the batches grow, so the number of syncs per second is
// bounded by the disk, not by the event rate.
//
// Files: audit-NNNNNN-YYYYMMDD.jsonl, numbered in order; each begins with an "audit.file"
// line naming itself. A new file is started when the UTC date (of the injectable clock)
// changes, when the next line would take the file past max_file_bytes, and when the
// newest file ends in a torn line. After a new file is started, the oldest files beyond
// keep_files are deleted. The chain and audit_seq continue across files and across
// restarts: on start the writer reads the tail of the newest file.
//
// Guaranteed:
// - Lines are in commit order; audit_seq counts every line of the log, without gaps.
// - A field not on the allow-list never reaches a file (its value is "[redacted]").
// - A line, once fdatasync()ed, is never rewritten or removed by GROK except when
//   rotation deletes its whole file (the verifier then starts at the oldest file left).
// - Events the writer could not take are counted (grok_audit_lines_dropped_total, a
//   warning in the log) and recorded in the chain by an "audit.dropped" line at the
//   place they were lost, with their number and why (queue full or a failed write).
// - A torn last line (a crash in the middle of a write) is not chained onto: the writer
//   starts a new file whose header line records the torn line's file, offset, length and
//   SHA-256, and chains to the last whole line; the verifier accepts exactly that.
// Not guaranteed:
// - Events committed just before a crash (or SIGKILL) that the writer had not yet
//   synced are not in the log; the store still has them. No catch-up from the store is
//   done on start: the store has no process-wide event order to resume from cheaply.
// - Only events committed by this process are seen (the feed is in-process). One writer
//   per directory: a second process finding the directory locked writes no audit log and
//   says so; give each process its own audit.dir.
// - Without a secret the chain shows accidental damage and careless edits, but whoever
//   can write the files can recompute every hash after an edit; with a secret (HMAC)
//   they cannot without it. Deleting the newest lines (and the lock) is only detectable
//   by comparing with a copy kept elsewhere.
//
// Thread-safety: submit(), flush() and counters() may be called from any thread;
// the destructor drains the queue, syncs and closes the file.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/result.h"

namespace grok::obs {

// One run event as the store keeps it (store::event_record, plus the schema number);
// grok_obs does not depend on the store.
struct audit_event {
  int schema = 1;
  std::string type;  // "step.completed"
  std::int64_t seq = 0;
  std::string run_id;
  std::optional<std::string> step_id;
  std::optional<std::string> name;
  time_point ts;
  std::string body_json;  // the fields beyond the envelope
};

struct audit_options {
  std::string dir;
  std::int64_t max_file_bytes = 64LL * 1024 * 1024;
  int keep_files = 30;
  std::vector<std::string> allow_fields;  // empty: k_default_audit_allow_fields
  std::string secret;                     // empty: SHA-256 chain without a key
  std::size_t max_queue_events = 65'536;  // events waiting for the writer
  std::size_t max_queue_bytes = 64U * 1024 * 1024;
  const clock* file_clock = nullptr;  // picks file dates; nullptr: the system clock
};

// The options from the [audit] configuration, writing to `c.effective_audit_dir()`.
[[nodiscard]] audit_options audit_options_from(const config& c);

class audit_writer {
 public:
  struct counters_view {
    std::int64_t lines_written = 0;   // every line, audit.* lines included
    std::int64_t events_dropped = 0;  // never written
    std::int64_t files_started = 0;
    std::int64_t files_deleted = 0;
  };
  struct start_report {
    std::string file;            // the file the writer appends to first ("" until one)
    std::int64_t audit_seq = 0;  // where the chain continues (0: a new log)
    bool torn_tail = false;      // the newest file ended in a torn line
    bool keyed_before = false;   // the last line was HMAC-keyed
  };

  // Creates the directory (0700) when missing, locks it, reads the tail of the newest
  // file and starts the writer thread. errc::busy when another process holds the
  // directory's lock; errc::corrupt when the newest file's last whole line is not an
  // audit line (an edit: run `grok audit verify`); errc::io for file-system failures.
  [[nodiscard]] static result<std::unique_ptr<audit_writer>> start(audit_options options);
  ~audit_writer();
  audit_writer(const audit_writer&) = delete;
  audit_writer& operator=(const audit_writer&) = delete;

  // Queues the events (moved from), or counts them dropped when the queue is full.
  // Never waits for I/O; takes one short lock.
  void submit(std::vector<audit_event> events);
  // Waits until every event submitted before the call is written and synced (or
  // dropped). False on timeout.
  bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  [[nodiscard]] counters_view counters() const;
  [[nodiscard]] const start_report& started() const { return report_; }

 private:
  struct impl;
  explicit audit_writer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
  start_report report_;
};

}  // namespace grok::obs
