// Prometheus metrics: counters, gauges and histograms with labels, kept in one
// process-wide registry and rendered in the Prometheus text exposition format (0.0.4) for
// GET /metrics (SPEC §7).
//
// No Prometheus client library is packaged for Debian 12, so this is the small part of
// one that GROK needs: families registered by name, series keyed by label values, and a
// renderer that passes `promtool check metrics`.
//
// Label values must come from bounded sets (route templates, tool names, statuses), never
// from raw paths, ids or user text: every distinct value is a series kept for the life of
// the process.
//
// Thread-safety: every method may be called from any thread. Registering a family returns
// a reference that stays valid for the life of the registry. Updates take a short lock
// per family; render() takes each family's lock in turn.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace grok::obs {

// The Content-Type of render()'s text.
inline constexpr std::string_view k_exposition_content_type =
    "text/plain; version=0.0.4; charset=utf-8";

// Label values in the order of the family's label names. Passing another number of
// values than the family has label names is a programmer error (asserted; in a release
// build missing values are empty and extra ones dropped).
using labels = std::initializer_list<std::string_view>;

// A counter of a family without labels is rendered as 0 before its first inc(), so that
// rate() sees its first increase; a labelled series appears at its first inc().
class counter_family {
 public:
  // Adds `by` (must be >= 0; anything else is ignored) to the series with these values.
  void inc(labels values = {}, double by = 1);
  // Raises the series to `total` when that is more than its value (never lowers it): for
  // counts kept elsewhere and copied at scrape time, such as the kernel's CPU time.
  void raise_to(labels values, double total);
  // The series' current value (0 when it does not exist yet).
  [[nodiscard]] double value(labels values = {}) const;

 private:
  friend class registry;
  counter_family(std::string name, std::string help, std::vector<std::string> label_names);
  void render(std::string& out) const;
  std::string name_, help_;
  std::vector<std::string> label_names_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, double> series_;  // guarded by mutex_
};

class gauge_family {
 public:
  void set(labels values, double v);
  void add(labels values, double by);
  // Removes every series (collectors that rebuild a gauge from scratch at each scrape).
  void clear();
  [[nodiscard]] double value(labels values = {}) const;

 private:
  friend class registry;
  gauge_family(std::string name, std::string help, std::vector<std::string> label_names);
  void render(std::string& out) const;
  std::string name_, help_;
  std::vector<std::string> label_names_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, double> series_;  // guarded by mutex_
};

// A histogram of a family without labels is rendered with zero counts before its first
// observe(), like a counter.
class histogram_family {
 public:
  struct snapshot {
    std::uint64_t count = 0;
    double sum = 0;
    std::vector<std::uint64_t> cumulative;  // per upper bound, then +Inf
  };
  // Counts `v` (NaN is ignored) in the first bucket whose upper bound is >= v.
  void observe(labels values, double v);
  [[nodiscard]] snapshot get(labels values = {}) const;

 private:
  friend class registry;
  histogram_family(std::string name, std::string help, std::vector<std::string> label_names,
                   std::vector<double> upper_bounds);
  void render(std::string& out) const;
  struct series {
    std::vector<std::uint64_t> buckets;  // not cumulative; last is +Inf
    std::uint64_t count = 0;
    double sum = 0;
  };
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, series> series_;  // guarded by mutex_
};

// Bucket upper bounds in seconds for request, step and model latencies: 1 ms to 5 min.
[[nodiscard]] const std::vector<double>& latency_buckets();

class registry {
 public:
  registry();
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  // Registers a family, or returns the one already registered under this name. Asking for
  // an existing name with another type or other label names, or an invalid name, is a
  // programmer error (std::logic_error). Names follow Prometheus rules
  // ([a-zA-Z_:][a-zA-Z0-9_:]*, labels without ':' and not starting with "__", no "le"
  // label on a histogram); counters end in _total (promtool's lint). Histogram bounds are
  // sorted and deduplicated; +Inf is always the last bucket.
  counter_family& counter(std::string_view name, std::string_view help,
                          std::vector<std::string> label_names = {});
  gauge_family& gauge(std::string_view name, std::string_view help,
                      std::vector<std::string> label_names = {});
  histogram_family& histogram(std::string_view name, std::string_view help,
                              std::vector<std::string> label_names,
                              std::vector<double> upper_bounds = latency_buckets());

  // `collect` runs at the start of every render(), e.g. to set gauges from the store's
  // queue statistics. It must not call add_collector/remove_collector. Returns a handle.
  std::uint64_t add_collector(std::function<void()> collect);
  // Once this returns, the collector is not called again.
  void remove_collector(std::uint64_t handle);

  // Every family, sorted by name, in the text exposition format (Content-Type
  // "text/plain; version=0.0.4; charset=utf-8").
  [[nodiscard]] std::string render();

 private:
  struct entry;
  template <typename family, typename make>
  family& find_or_add(std::string_view name, const std::vector<std::string>& label_names,
                      make&& create);
  std::mutex mutex_;  // guards families_ and collectors_
  std::map<std::string, std::unique_ptr<entry>, std::less<>> families_;
  std::map<std::uint64_t, std::function<void()>> collectors_;
  std::uint64_t next_collector_ = 1;
  std::mutex render_mutex_;  // one render at a time, so collectors never overlap
};

// The process-wide registry.
registry& metrics();

// Keeps a label whose values should come from a small set (tool names, model roles)
// bounded even when a bug or a hostile input feeds it something else: a value of 1 to 64
// characters from [A-Za-z0-9_.:/-] is passed through while fewer than `max_values`
// distinct values were seen; anything else becomes "other".
// Thread-safety: admit() may be called from any thread (one mutex).
class label_guard {
 public:
  explicit label_guard(std::size_t max_values = 64) : max_values_(max_values) {}
  // Returns `value` or "other"; the view is valid as long as `value` is.
  [[nodiscard]] std::string_view admit(std::string_view value);

 private:
  std::size_t max_values_;
  std::mutex mutex_;
  std::set<std::string, std::less<>> seen_;  // guarded by mutex_
};

// Removes a collector when destroyed.
class collector_registration {
 public:
  collector_registration(registry& r, std::function<void()> collect)
      : registry_(&r), handle_(r.add_collector(std::move(collect))) {}
  collector_registration(const collector_registration&) = delete;
  collector_registration& operator=(const collector_registration&) = delete;
  ~collector_registration() { registry_->remove_collector(handle_); }

 private:
  registry* registry_;
  std::uint64_t handle_;
};

}  // namespace grok::obs
