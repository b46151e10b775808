// Time sources. Everything that decides by time (leases, backoff, lag, retention) asks a
// `clock` instead of the system, so tests can move time by hand.
//
// Thread-safety: both implementations may be used from any number of threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace grok {

using millis = std::chrono::milliseconds;
// Wall-clock time at millisecond resolution, as stored in the database (Unix ms).
using time_point = std::chrono::sys_time<millis>;

inline std::int64_t to_unix_ms(time_point t) noexcept { return t.time_since_epoch().count(); }
inline time_point from_unix_ms(std::int64_t ms) noexcept { return time_point(millis(ms)); }

class clock {
 public:
  virtual ~clock() = default;
  [[nodiscard]] virtual time_point now() const = 0;
};

class system_clock final : public clock {
 public:
  [[nodiscard]] time_point now() const override;
  // The process-wide instance; stateless, so sharing it is safe.
  static system_clock& instance();
};

// A clock that only moves when told to. Starts at the given instant.
class manual_clock final : public clock {
 public:
  explicit manual_clock(time_point start = from_unix_ms(1'700'000'000'000)) noexcept
      : now_ms_(to_unix_ms(start)) {}
  [[nodiscard]] time_point now() const override { return from_unix_ms(now_ms_.load()); }
  void advance(millis d) noexcept { now_ms_ += d.count(); }
  void set(time_point t) noexcept { now_ms_ = to_unix_ms(t); }

 private:
  std::atomic<std::int64_t> now_ms_;
};

}  // namespace grok
