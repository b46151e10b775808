// Wakes sleeping workers when jobs may have become claimable, without polling.
//
// A generation counter avoids lost wake-ups: a worker reads generation() before it tries
// to claim, and if nothing was there it waits for the generation to move past that value.
// Backends call notify() after committing an enqueue, nack or requeue (and the PostgreSQL
// backend on LISTEN notifications from other processes). Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace grok::store {

class job_signal {
 public:
  [[nodiscard]] std::uint64_t generation() const;
  // Wakes every waiter (a stop, or a change anyone may care about).
  void notify();
  // Wakes at most `waiters` waiters: one per job made claimable, so that one enqueue does
  // not send every idle worker to claim (and all but one to find nothing).
  void notify_some(std::size_t waiters);
  // Returns true when the generation moved past `seen`, false after `max_wait`.
  bool wait_for_change(std::uint64_t seen, std::chrono::steady_clock::duration max_wait);

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t generation_ = 0;  // guarded by mutex_
};

}  // namespace grok::store
