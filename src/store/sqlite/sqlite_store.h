// The SQLite backend of the store (WAL mode, one file).
//
// Writes are serialized through one writer connection (a mutex owned by the store object plus
// BEGIN IMMEDIATE, so other processes on the same file wait via the busy timeout).
// Reads use a small pool of reader connections and never block the writer (WAL).
//
// Thread-safety: all public methods may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/sqlite/connection.h"
#include "store/sqlite/db_lock.h"
#include "store/store.h"

namespace grok::store::sqlite {

struct sqlite_options {
  std::string path;
  bool create_if_missing = true;
  // Apply pending migrations at open; when false, an out-of-date schema is an error.
  bool migrate = true;
  std::string synchronous = "NORMAL";  // NORMAL (safe against process crashes) or FULL
  int busy_timeout_ms = 10'000;
  const clock* time_source = nullptr;  // defaults to the system clock
};

// Raises glibc's heap trim threshold for the whole process. Every statement inside an
// explicit transaction makes SQLite allocate and free a statement-savepoint bitmap of a few
// hundred KiB; on worker threads glibc hands that memory back to the kernel at each free
// and faults it in again at the next allocation, which cut claim+ack throughput to a fifth
// in bench/queue. Call once at start-up from main (process-wide state belongs there).
void configure_process_allocator();

class sqlite_store final : public store {
 public:
  // Opens (and by default creates and migrates) the database at options.path.
  // errc::not_found: missing file with create_if_missing=false; errc::corrupt: not a
  // database; errc::unsupported: schema newer than this binary; errc::busy: `grok restore`
  // held the database's lock (db_lock.h) for all of busy_timeout_ms.
  [[nodiscard]] static result<std::unique_ptr<sqlite_store>> open(const sqlite_options& options);

  [[nodiscard]] result<void> transact(
      const std::function<result<void>(transaction&)>& work) override;

  [[nodiscard]] result<std::optional<job>> get_job(job_id id) override;
  [[nodiscard]] result<std::vector<job>> list_jobs(const job_page_request& req) override;
  [[nodiscard]] result<queue_stats> get_queue_stats() override;
  [[nodiscard]] result<std::optional<time_point>> next_visible_at(
      const std::vector<std::string>& topics) override;

  [[nodiscard]] result<std::optional<run_record>> get_run(std::string_view id) override;
  [[nodiscard]] result<std::vector<run_record>> list_runs(const run_page_request& req) override;
  [[nodiscard]] result<std::optional<run_record>> find_run_by_idempotency_key(
      std::string_view owner_key_id, std::string_view key) override;
  [[nodiscard]] result<std::vector<step_record>> list_steps(std::string_view run_id) override;
  [[nodiscard]] result<std::vector<event_record>> events_after(std::string_view run_id,
                                                               std::int64_t after,
                                                               int limit) override;
  [[nodiscard]] result<std::optional<artifact_record>> get_artifact(std::string_view id) override;
  [[nodiscard]] result<std::optional<llm_call_record>> find_llm_call(
      std::string_view request_hash, std::optional<std::string_view> run_id) override;
  [[nodiscard]] result<std::vector<llm_call_record>> list_llm_calls(
      std::string_view run_id) override;

  // documents: sqlite_documents.cpp
  [[nodiscard]] result<std::vector<document_hit>> search_documents(std::string_view query,
                                                                   int k) override;
  [[nodiscard]] result<std::vector<document_summary>> list_documents() override;

  // API keys: sqlite_api_keys.cpp
  [[nodiscard]] result<std::vector<api_key_record>> list_api_keys() override;
  [[nodiscard]] result<std::optional<api_key_record>> find_api_key(std::string_view hash) override;

  // retention: sqlite_maintenance.cpp
  [[nodiscard]] result<prune_batch> prune_runs(time_point cutoff, int limit) override;
  [[nodiscard]] result<job_prune_batch> prune_jobs(time_point cutoff, job_id after,
                                                   int limit) override;
  [[nodiscard]] result<prune_counts> count_prunable(time_point cutoff) override;

  job_signal& jobs_signal() override { return signal_; }
  job_signal& events_signal() override { return events_signal_; }
  event_feed& events_feed() override { return feed_; }
  [[nodiscard]] const clock& store_clock() const override { return clock_; }

  // Runs SQLite's integrity check; returns its findings, empty when the file is sound.
  [[nodiscard]] result<std::vector<std::string>> integrity_check();
  [[nodiscard]] result<int> schema_version();

 private:
  // A connection to read with: a pooled reader on loan, returned when destroyed, or the
  // writer while its lock is held. (Defined here so that the reads of each area can live in
  // their own file, like sqlite_documents.cpp.)
  class reader {
   public:
    reader(sqlite_store& owner, std::unique_ptr<connection> conn)
        : owner_(&owner), conn_(std::move(conn)), use_(conn_.get()) {}
    reader(sqlite_store& owner, std::unique_lock<std::mutex> writer_lock, connection& writer)
        : owner_(&owner), writer_lock_(std::move(writer_lock)), use_(&writer) {}
    reader(reader&&) noexcept = default;
    reader(const reader&) = delete;
    reader& operator=(const reader&) = delete;
    reader& operator=(reader&&) = delete;
    ~reader() {
      if (conn_) owner_->release_reader(std::move(conn_));
    }
    connection* operator->() const { return use_; }

   private:
    sqlite_store* owner_;
    std::unique_ptr<connection> conn_;
    std::unique_lock<std::mutex> writer_lock_;
    connection* use_;
  };

  sqlite_store(std::unique_ptr<connection> writer, sqlite_options options, const clock& c);
  // Short reads take the writer when no transaction holds it: its page cache is always
  // current, where a pooled reader's is dropped after every commit and read again from the
  // file (most of the engine's reads are a few rows of what was just written). Long reads
  // pass `may_use_writer = false` so they never hold up a transaction.
  [[nodiscard]] result<reader> acquire_reader(bool may_use_writer = true);
  void release_reader(std::unique_ptr<connection> conn);

  sqlite_options options_;
  // Shared for the life of the store, so that `grok restore` sees the database is in use.
  db_lock process_lock_;
  const clock& clock_;
  job_signal signal_;
  job_signal events_signal_;
  event_feed feed_;

  std::mutex write_mutex_;
  std::unique_ptr<connection> writer_;  // guarded by write_mutex_

  // Group commit (transact): writers waiting for the next batch.
  struct pending_write;
  static constexpr std::size_t k_max_batch = 64;
  void commit_batch(const std::vector<pending_write*>& batch);
  std::mutex batch_mutex_;
  std::condition_variable batch_done_;
  std::vector<pending_write*> waiting_;  // guarded by batch_mutex_
  bool leader_active_ = false;           // guarded by batch_mutex_

  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<connection>> idle_readers_;  // guarded by readers_mutex_
};

}  // namespace grok::store::sqlite
