// What the listener and every connection of one server share: the limits, the handler,
// the counters behind server::stats(), and the registry of open connections that stop()
// walks to drain them.
// Thread-safety: the counters are atomics; `connections` is guarded by `mutex`;
// `limits` and `handler` are set before the io threads start and only read after.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/config.h"
#include "http/server.h"

namespace grok::http {

class connection;
class waker_link;

struct server_state {
  struct entry {
    std::weak_ptr<connection> conn;
    std::shared_ptr<waker_link> link;
  };

  http_config limits;
  request_handler handler;

  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> connections_refused{0};
  std::atomic<std::uint64_t> requests_total{0};

  std::mutex mutex;
  std::condition_variable closed_cv;                     // notified when one closes
  std::unordered_map<std::uint64_t, entry> connections;  // guarded by mutex

  // Every connection registers itself once and unregisters in its destructor.
  void add_connection(std::uint64_t id, entry e) {
    std::lock_guard lock(mutex);
    connections.emplace(id, std::move(e));
  }
  void remove_connection(std::uint64_t id) {
    {
      std::lock_guard lock(mutex);
      connections.erase(id);
      connections_open.fetch_sub(1);
    }
    closed_cv.notify_all();
  }

  // One write (a response, a stream message) must finish within this.
  [[nodiscard]] std::chrono::milliseconds write_timeout() const {
    return std::max(limits.idle_timeout, std::chrono::milliseconds(1000));
  }
  // A body must arrive within this once its head is read.
  [[nodiscard]] std::chrono::milliseconds body_timeout() const {
    return std::max(limits.idle_timeout, limits.header_timeout);
  }
};

}  // namespace grok::http
