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
#include <string>
#include <string_view>
#include <vector>

namespace grok::obs {

// Label values in the order of the family's label names.
using labels = std::initializer_list<std::string_view>;

class counter_family {
 public:
  // Adds `by` (must be >= 0) to the series with these label values.
  void inc(labels values = {}, double by = 1);
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

class histogram_family {
 public:
  struct snapshot {
    std::uint64_t count = 0;
    double sum = 0;
    std::vector<std::uint64_t> cumulative;  // per upper bound, then +Inf
  };
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
  // an existing name with another type or other label names is a programmer error
  // (asserted). Names follow Prometheus rules ([a-zA-Z_:][a-zA-Z0-9_:]*); counters end in
  // _total.
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
  std::mutex mutex_;  // guards families_ and collectors_
  std::map<std::string, std::unique_ptr<entry>, std::less<>> families_;
  std::map<std::uint64_t, std::function<void()>> collectors_;
  std::uint64_t next_collector_ = 1;
  std::mutex render_mutex_;  // one render at a time, so collectors never overlap
};

// The process-wide registry.
registry& metrics();

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
