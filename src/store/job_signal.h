// Wakes sleeping workers when jobs may have become claimable, without polling.
//
// A generation counter avoids lost wake-ups: a worker reads generation() before it tries
// to claim, and if nothing was there it waits for the generation to move past that value.
// Backends call notify() after committing an enqueue, nack or requeue (and the PostgreSQL
// backend on LISTEN notifications from other processes). Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace grok::store {

class job_signal {
 public:
  [[nodiscard]] std::uint64_t generation() const;
  void notify();
  // Returns true when the generation moved past `seen`, false after `max_wait`.
  bool wait_for_change(std::uint64_t seen, std::chrono::steady_clock::duration max_wait);

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t generation_ = 0;  // guarded by mutex_
};

}  // namespace grok::store
