#include "api/stream_router.h"

#include <algorithm>
#include <exception>

#include <spdlog/spdlog.h>

#include "api/stream_channel.h"
#include "api/stream_format.h"
#include "engine/events.h"

namespace grok::api::detail {
namespace {

// Run owners remembered by the fan-out thread for "*" followers that are not admins.
constexpr std::size_t k_owner_cache_max = 4096;

void erase_ref(std::vector<std::pair<const stream_channel*, std::weak_ptr<stream_channel>>>& refs,
               const stream_channel* ch) {
  std::erase_if(refs, [&](const auto& r) { return r.first == ch; });
}

}  // namespace

stream_router::stream_router(store::store& st, stream_limits limits)
    : store_(st), limits_(limits) {}

stream_router::~stream_router() { stop(); }

void stream_router::start() {
  feed_.emplace(store_.events_feed(),
                [this](const std::vector<store::event_record>& events) { on_feed(events); });
  fan_out_thread_ = std::thread([this] { run_fan_out(); });
}

void stream_router::stop() {
  std::call_once(stop_once_, [this] {
    shutdown_all();
    feed_.reset();  // once this returns the listener is not called again
    {
      std::lock_guard lock(queue_mutex_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    if (fan_out_thread_.joinable()) fan_out_thread_.join();
    std::unique_lock lock(reads_mutex_);
    reads_closed_ = true;
    reads_done_.wait(lock, [this] { return reads_in_flight_ == 0; });
  });
}

void stream_router::shutdown_all() {
  std::vector<std::shared_ptr<stream_channel>> open;
  {
    std::lock_guard lock(registry_mutex_);
    shutting_down_ = true;
    for (const auto& [ptr, weak] : channels_) {
      if (auto ch = weak.lock()) open.push_back(std::move(ch));
    }
  }
  for (const auto& ch : open) ch->shutdown();
}

result<std::vector<store::event_record>> stream_router::read_events(const std::string& run_id,
                                                                    std::int64_t after, int limit) {
  {
    std::lock_guard lock(reads_mutex_);
    if (reads_closed_) return fail(errc::cancelled, "the stream hub has stopped");
    ++reads_in_flight_;
  }
  auto page = store_.events_after(run_id, after, limit);
  {
    std::lock_guard lock(reads_mutex_);
    --reads_in_flight_;
  }
  reads_done_.notify_all();
  return page;
}

result<std::optional<store::run_record>> stream_router::read_run(const std::string& run_id) {
  {
    std::lock_guard lock(reads_mutex_);
    if (reads_closed_) return fail(errc::cancelled, "the stream hub has stopped");
    ++reads_in_flight_;
  }
  auto run = store_.get_run(run_id);
  {
    std::lock_guard lock(reads_mutex_);
    --reads_in_flight_;
  }
  reads_done_.notify_all();
  return run;
}

bool stream_router::add_channel(const std::shared_ptr<stream_channel>& ch) {
  std::lock_guard lock(registry_mutex_);
  if (shutting_down_) return false;
  channels_.emplace(ch.get(), ch);
  if (ch->kind() == stream_kind::sse) {
    ++open_sse_;
  } else {
    ++open_websocket_;
  }
  return true;
}

void stream_router::remove_channel(const stream_channel* ch, stream_kind kind) {
  std::lock_guard lock(registry_mutex_);
  if (channels_.erase(ch) == 0) return;
  if (kind == stream_kind::sse) {
    --open_sse_;
  } else {
    --open_websocket_;
  }
}

void stream_router::follow_run(const std::string& run_id, std::weak_ptr<stream_channel> ch) {
  std::lock_guard lock(registry_mutex_);
  const auto* ptr = ch.lock().get();
  if (ptr == nullptr) return;
  by_run_[run_id].emplace_back(ptr, std::move(ch));
  follows_.fetch_add(1);
}

void stream_router::unfollow_run(const std::string& run_id, const stream_channel* ch) {
  std::lock_guard lock(registry_mutex_);
  auto it = by_run_.find(run_id);
  if (it == by_run_.end()) return;
  const auto before = it->second.size();
  erase_ref(it->second, ch);
  follows_.fetch_sub(before - it->second.size());
  if (it->second.empty()) by_run_.erase(it);
}

void stream_router::follow_all(std::weak_ptr<stream_channel> ch) {
  std::lock_guard lock(registry_mutex_);
  const auto* ptr = ch.lock().get();
  if (ptr == nullptr) return;
  watch_all_.emplace_back(ptr, std::move(ch));
  follows_.fetch_add(1);
}

void stream_router::unfollow_all(const stream_channel* ch) {
  std::lock_guard lock(registry_mutex_);
  const auto before = watch_all_.size();
  erase_ref(watch_all_, ch);
  follows_.fetch_sub(before - watch_all_.size());
}

stream_hub::stats stream_router::current_stats() const {
  stream_hub::stats s;
  {
    std::lock_guard lock(registry_mutex_);
    s.open_sse = open_sse_;
    s.open_websocket = open_websocket_;
  }
  s.events_fanned_out = fanned_out_.load();
  s.slow_consumers_dropped = slow_dropped_.load();
  return s;
}

void stream_router::on_feed(const std::vector<store::event_record>& events) {
  // Nobody follows anything: nothing to copy. A follower that registers later reads these
  // events from the store, where they already are.
  if (follows_.load() == 0) return;
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_) return;
    queue_.insert(queue_.end(), events.begin(), events.end());
  }
  queue_cv_.notify_one();
}

void stream_router::run_fan_out() {
  std::vector<store::event_record> batch;
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      batch.swap(queue_);
    }
    for (const auto& e : batch) {
      // The thread's edge: one bad event must not end live delivery for everyone.
      try {
        fan_out(e);
      } catch (const std::exception& ex) {
        spdlog::error("stream: fan-out of {} #{} failed: {}", e.run_id, e.seq, ex.what());
      }
    }
    batch.clear();
  }
}

void stream_router::fan_out(const store::event_record& e) {
  struct recipient {
    std::shared_ptr<stream_channel> channel;
    bool watches_all = false;
  };
  std::vector<recipient> to;
  {
    std::lock_guard lock(registry_mutex_);
    if (auto it = by_run_.find(e.run_id); it != by_run_.end()) {
      for (const auto& [ptr, weak] : it->second) {
        if (auto ch = weak.lock()) to.push_back({std::move(ch), false});
      }
    }
    for (const auto& [ptr, weak] : watch_all_) {
      auto same = std::find_if(to.begin(), to.end(),
                               [p = ptr](const recipient& r) { return r.channel.get() == p; });
      if (same != to.end()) {
        same->watches_all = true;
      } else if (auto ch = weak.lock()) {
        to.push_back({std::move(ch), true});
      }
    }
  }
  fanned_out_.fetch_add(1);
  if (to.empty()) return;

  live_event ev;
  ev.run_id = e.run_id;
  ev.seq = e.seq;
  ev.terminal = engine::is_terminal_event(e.type);
  auto json = event_json(e);
  const bool any_sse = std::any_of(to.begin(), to.end(), [](const recipient& r) {
    return r.channel->kind() == stream_kind::sse;
  });
  if (any_sse) ev.sse = std::make_shared<const std::string>(sse_frame(e, json));
  ev.json = std::make_shared<const std::string>(std::move(json));

  for (const auto& r : to) {
    bool allowed = false;
    if (r.watches_all) {
      const auto& who = r.channel->who();
      allowed = who.admin || owns_run(e.run_id, who.key_id);
    }
    r.channel->deliver(ev, allowed);
  }
}

bool stream_router::owns_run(const std::string& run_id, const std::string& key_id) {
  auto it = owners_.find(run_id);
  if (it == owners_.end()) {
    auto run = store_.get_run(run_id);
    if (!run) {
      spdlog::warn("stream: reading the owner of {} failed: {}", run_id, describe(run.error()));
      return false;
    }
    if (owners_.size() >= k_owner_cache_max) owners_.clear();
    std::optional<std::string> owner;
    if (*run) owner = (*run)->owner_key_id;
    it = owners_.emplace(run_id, std::move(owner)).first;
  }
  return it->second.has_value() && !key_id.empty() && *it->second == key_id;
}

}  // namespace grok::api::detail
