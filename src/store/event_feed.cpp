#include "store/event_feed.h"

#include <mutex>

namespace grok::store {

std::uint64_t event_feed::subscribe(listener l) {
  std::unique_lock lock(mutex_);
  const auto handle = next_handle_++;
  listeners_.emplace(handle, std::move(l));
  return handle;
}

void event_feed::unsubscribe(std::uint64_t handle) {
  std::unique_lock lock(mutex_);
  listeners_.erase(handle);
}

void event_feed::publish(const std::vector<event_record>& events) {
  if (events.empty()) return;
  std::shared_lock lock(mutex_);
  for (const auto& [handle, l] : listeners_) l(events);
}

}  // namespace grok::store
