#include "obs/metrics.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <variant>

namespace grok::obs {
namespace {

std::vector<std::string> to_key(labels values, std::size_t expected) {
  assert(values.size() == expected && "label values do not match the family's label names");
  (void)expected;
  std::vector<std::string> key;
  key.reserve(values.size());
  for (auto v : values) key.emplace_back(v);
  return key;
}

// Label values escape backslash, double quote and newline; HELP text backslash and
// newline (exposition format 0.0.4).
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char ch : text) {
    if (ch == '\\') {
      out += "\\\\";
    } else if (ch == '\n') {
      out += "\\n";
    } else if (quote && ch == '"') {
      out += "\\\"";
    } else {
      out += ch;
    }
  }
}

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[64];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
    out.append(buffer, ec == std::errc{} ? end : buffer);
  }
}

void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    append_escaped(out, values[i], true);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

void append_header(std::string& out, const std::string& name, const std::string& help,
                   std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  append_escaped(out, help, false);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void render_simple(std::string& out, const std::string& name, const std::string& help,
                   std::string_view type, const std::vector<std::string>& label_names,
                   const std::map<std::vector<std::string>, double>& series) {
  append_header(out, name, help, type);
  for (const auto& [key, value] : series) {
    out += name;
    append_labels(out, label_names, key);
    out += ' ';
    append_number(out, value);
    out += '\n';
  }
}

}  // namespace

// --- counter ---

counter_family::counter_family(std::string name, std::string help,
                               std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

void counter_family::inc(labels values, double by) {
  if (!(by >= 0)) return;  // counters never go down (NaN is refused too)
  auto key = to_key(values, label_names_.size());
  const std::lock_guard lock(mutex_);
  series_[std::move(key)] += by;
}

double counter_family::value(labels values) const {
  auto key = to_key(values, label_names_.size());
  const std::lock_guard lock(mutex_);
  auto it = series_.find(key);
  return it == series_.end() ? 0 : it->second;
}

void counter_family::render(std::string& out) const {
  const std::lock_guard lock(mutex_);
  render_simple(out, name_, help_, "counter", label_names_, series_);
}

// --- gauge ---

gauge_family::gauge_family(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

void gauge_family::set(labels values, double v) {
  auto key = to_key(values, label_names_.size());
  const std::lock_guard lock(mutex_);
  series_[std::move(key)] = v;
}

void gauge_family::add(labels values, double by) {
  auto key = to_key(values, label_names_.size());
  const std::lock_guard lock(mutex_);
  series_[std::move(key)] += by;
}

void gauge_family::clear() {
  const std::lock_guard lock(mutex_);
  series_.clear();
}

double gauge_family::value(labels values) const {
  auto key = to_key(values, label_names_.size());
  const std::lock_guard lock(mutex_);
  auto it = series_.find(key);
  return it == series_.end() ? 0 : it->second;
}

void gauge_family::render(std::string& out) const {
  const std::lock_guard lock(mutex_);
  render_simple(out, name_, help_, "gauge", label_names_, series_);
}

// --- histogram ---

histogram_family::histogram_family(std::string name, std::string help,
                                   std::vector<std::string> label_names,
                                   std::vector<double> upper_bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(upper_bounds)) {}

void histogram_family::observe(labels values, double v) {
  if (std::isnan(v)) return;
  auto key = to_key(values, label_names_.size());
  std::size_t bucket = 0;
  while (bucket < bounds_.size() && v > bounds_[bucket]) ++bucket;
  const std::lock_guard lock(mutex_);
  auto& s = series_[std::move(key)];
  if (s.buckets.empty()) s.buckets.assign(bounds_.size() + 1, 0);
  ++s.buckets[bucket];
  ++s.count;
  s.sum += v;
}

histogram_family::snapshot histogram_family::get(labels values) const {
  auto key = to_key(values, label_names_.size());
  snapshot snap;
  snap.cumulative.assign(bounds_.size() + 1, 0);
  const std::lock_guard lock(mutex_);
  auto it = series_.find(key);
  if (it == series_.end()) return snap;
  snap.count = it->second.count;
  snap.sum = it->second.sum;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < it->second.buckets.size(); ++i) {
    running += it->second.buckets[i];
    snap.cumulative[i] = running;
  }
  return snap;
}

void histogram_family::render(std::string& out) const {
  const std::lock_guard lock(mutex_);
  append_header(out, name_, help_, "histogram");
  for (const auto& [key, s] : series_) {
    std::uint64_t running = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
      running += s.buckets[i];
      std::string le;
      if (i == bounds_.size()) {
        le = "+Inf";
      } else {
        append_number(le, bounds_[i]);
      }
      out += name_;
      out += "_bucket";
      append_labels(out, label_names_, key, "le", le);
      out += ' ';
      out += std::to_string(running);
      out += '\n';
    }
    out += name_;
    out += "_sum";
    append_labels(out, label_names_, key);
    out += ' ';
    append_number(out, s.sum);
    out += '\n';
    out += name_;
    out += "_count";
    append_labels(out, label_names_, key);
    out += ' ';
    out += std::to_string(s.count);
    out += '\n';
  }
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> bounds = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
  return bounds;
}

// --- registry ---

struct registry::entry {
  std::variant<std::unique_ptr<counter_family>, std::unique_ptr<gauge_family>,
               std::unique_ptr<histogram_family>>
      family;
  std::vector<std::string> label_names;
};

registry::registry() = default;
registry::~registry() = default;

counter_family& registry::counter(std::string_view name, std::string_view help,
                                  std::vector<std::string> label_names) {
  const std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* existing = std::get_if<std::unique_ptr<counter_family>>(&it->second->family);
    assert(existing != nullptr && it->second->label_names == label_names);
    return **existing;
  }
  auto e = std::make_unique<entry>();
  e->label_names = label_names;
  auto* family = new counter_family(std::string(name), std::string(help), std::move(label_names));
  e->family = std::unique_ptr<counter_family>(family);
  families_.emplace(std::string(name), std::move(e));
  return *family;
}

gauge_family& registry::gauge(std::string_view name, std::string_view help,
                              std::vector<std::string> label_names) {
  const std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* existing = std::get_if<std::unique_ptr<gauge_family>>(&it->second->family);
    assert(existing != nullptr && it->second->label_names == label_names);
    return **existing;
  }
  auto e = std::make_unique<entry>();
  e->label_names = label_names;
  auto* family = new gauge_family(std::string(name), std::string(help), std::move(label_names));
  e->family = std::unique_ptr<gauge_family>(family);
  families_.emplace(std::string(name), std::move(e));
  return *family;
}

histogram_family& registry::histogram(std::string_view name, std::string_view help,
                                      std::vector<std::string> label_names,
                                      std::vector<double> upper_bounds) {
  const std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* existing = std::get_if<std::unique_ptr<histogram_family>>(&it->second->family);
    assert(existing != nullptr && it->second->label_names == label_names);
    return **existing;
  }
  auto e = std::make_unique<entry>();
  e->label_names = label_names;
  auto* family = new histogram_family(std::string(name), std::string(help), std::move(label_names),
                                      std::move(upper_bounds));
  e->family = std::unique_ptr<histogram_family>(family);
  families_.emplace(std::string(name), std::move(e));
  return *family;
}

std::uint64_t registry::add_collector(std::function<void()> collect) {
  const std::lock_guard lock(mutex_);
  const auto handle = next_collector_++;
  collectors_.emplace(handle, std::move(collect));
  return handle;
}

void registry::remove_collector(std::uint64_t handle) {
  // Taking render_mutex_ waits out a render that may be running this collector.
  const std::lock_guard render_lock(render_mutex_);
  const std::lock_guard lock(mutex_);
  collectors_.erase(handle);
}

std::string registry::render() {
  const std::lock_guard render_lock(render_mutex_);
  std::vector<std::function<void()>> collectors;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [handle, collect] : collectors_) collectors.push_back(collect);
  }
  for (const auto& collect : collectors) collect();

  std::string out;
  const std::lock_guard lock(mutex_);
  for (const auto& [name, e] : families_) {
    std::visit([&out](const auto& family) { family->render(out); }, e->family);
  }
  return out;
}

registry& metrics() {
  static registry r;
  return r;
}

}  // namespace grok::obs
