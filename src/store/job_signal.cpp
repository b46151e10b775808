#include "store/job_signal.h"

namespace grok::store {

std::uint64_t job_signal::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

void job_signal::notify() {
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  changed_.notify_all();
}

void job_signal::notify_some(std::size_t waiters) {
  if (waiters == 0) return;
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  for (std::size_t i = 0; i < waiters; ++i) changed_.notify_one();
}

bool job_signal::wait_for_change(std::uint64_t seen, std::chrono::steady_clock::duration max_wait) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, max_wait, [&] { return generation_ != seen; });
}

}  // namespace grok::store
