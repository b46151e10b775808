#include "obs/metrics.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <variant>

namespace grok::obs {
namespace {

std::vector<std::string> to_key(labels values, std::size_t expected) {
  assert(values.size() == expected && "label values do not match the family's label names");
  // Without the assertion (release builds) a mismatch still never reads past the names.
  std::vector<std::string> key;
  key.reserve(expected);
  for (auto v : values) {
    if (key.size() == expected) break;
    key.emplace_back(v);
  }
  key.resize(expected);
  return key;
}

bool is_name_start(char ch, bool colon) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || (colon && ch == ':');
}

bool is_valid_name(std::string_view name, bool colon) {
  if (name.empty() || !is_name_start(name.front(), colon)) return false;
  return std::all_of(name.begin() + 1, name.end(), [colon](char ch) {
    return is_name_start(ch, colon) || (ch >= '0' && ch <= '9');
  });
}

void check_names(std::string_view name, const std::vector<std::string>& label_names,
                 bool histogram) {
  if (!is_valid_name(name, true)) {
    throw std::logic_error("invalid metric name: " + std::string(name));
  }
  for (const auto& l : label_names) {
    if (!is_valid_name(l, false) || l.starts_with("__") || (histogram && l == "le")) {
      throw std::logic_error("invalid label name " + l + " on metric " + std::string(name));
    }
  }
}

// Sorted, without duplicates or non-finite bounds: +Inf is always added at render.
std::vector<double> clean_bounds(std::vector<double> bounds) {
  std::erase_if(bounds, [](double b) { return !std::isfinite(b); });
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  return bounds;
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

void counter_family::raise_to(labels values, double total) {
  auto key = to_key(values, label_names_.size());
  const std::lock_guard lock(mutex_);
  auto& v = series_[std::move(key)];
  if (total > v) v = total;  // also false for NaN
}

double counter_family::value(labels values) const {
  auto key = to_key(values, label_names_.size());
  const std::lock_guard lock(mutex_);
  auto it = series_.find(key);
  return it == series_.end() ? 0 : it->second;
}

void counter_family::render(std::string& out) const {
  const std::lock_guard lock(mutex_);
  if (label_names_.empty() && series_.empty()) {
    const std::map<std::vector<std::string>, double> zero = {{std::vector<std::string>{}, 0.0}};
    render_simple(out, name_, help_, "counter", label_names_, zero);
    return;
  }
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
      bounds_(clean_bounds(std::move(upper_bounds))) {}

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
  const std::map<std::vector<std::string>, series> empty = {
      {{}, series{std::vector<std::uint64_t>(bounds_.size() + 1, 0), 0, 0}}};
  const auto& rendered = label_names_.empty() && series_.empty() ? empty : series_;
  for (const auto& [key, s] : rendered) {
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

template <typename family, typename make>
family& registry::find_or_add(std::string_view name, const std::vector<std::string>& label_names,
                              make&& create) {
  const std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* existing = std::get_if<std::unique_ptr<family>>(&it->second->family);
    if (existing == nullptr || it->second->label_names != label_names) {
      throw std::logic_error("metric " + std::string(name) +
                             " registered again with another type or other labels");
    }
    return **existing;
  }
  auto e = std::make_unique<entry>();
  e->label_names = label_names;
  auto owned = std::unique_ptr<family>(create());
  auto& ref = *owned;
  e->family = std::move(owned);
  families_.emplace(std::string(name), std::move(e));
  return ref;
}

counter_family& registry::counter(std::string_view name, std::string_view help,
                                  std::vector<std::string> label_names) {
  check_names(name, label_names, false);
  return find_or_add<counter_family>(name, label_names, [&] {
    return new counter_family(std::string(name), std::string(help), label_names);
  });
}

gauge_family& registry::gauge(std::string_view name, std::string_view help,
                              std::vector<std::string> label_names) {
  check_names(name, label_names, false);
  return find_or_add<gauge_family>(name, label_names, [&] {
    return new gauge_family(std::string(name), std::string(help), label_names);
  });
}

histogram_family& registry::histogram(std::string_view name, std::string_view help,
                                      std::vector<std::string> label_names,
                                      std::vector<double> upper_bounds) {
  check_names(name, label_names, true);
  return find_or_add<histogram_family>(name, label_names, [&] {
    return new histogram_family(std::string(name), std::string(help), label_names,
                                std::move(upper_bounds));
  });
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

std::string_view label_guard::admit(std::string_view value) {
  constexpr std::string_view k_other = "other";
  const bool well_formed =
      !value.empty() && value.size() <= 64 && std::all_of(value.begin(), value.end(), [](char ch) {
        return is_name_start(ch, true) || (ch >= '0' && ch <= '9') || ch == '.' || ch == '/' ||
               ch == '-';
      });
  if (!well_formed) return k_other;
  const std::lock_guard lock(mutex_);
  if (seen_.find(value) != seen_.end()) return value;
  if (seen_.size() >= max_values_) return k_other;
  seen_.emplace(value);
  return value;
}

}  // namespace grok::obs
