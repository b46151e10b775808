#include "api/stream_channel.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "api/stream_format.h"
#include "engine/events.h"

namespace grok::api::detail {
namespace {

// Reads of one follow within one next_batch() while its pending live events do not yet
// continue the stored ones. Each such read finds newer stored events, so two are the
// usual most; past this the transport is woken to call again.
constexpr int k_max_reads_per_follow = 4;

}  // namespace

stream_channel::stream_channel(std::shared_ptr<stream_router> router, stream_kind kind, viewer who)
    : router_(std::move(router)), kind_(kind), who_(std::move(who)) {}

void stream_channel::set_waker(std::function<void()> waker) {
  std::lock_guard lock(mutex_);
  if (waker) {
    waker_ = std::make_shared<const std::function<void()>>(std::move(waker));
  } else {
    waker_.reset();
  }
}

void stream_channel::follow_run(const std::string& run_id, std::int64_t after, bool run_ended) {
  std::lock_guard lock(mutex_);
  if (closed_ || close_ || follows_.contains(run_id)) return;
  auto f = std::make_shared<run_follow>();
  f->last_seq = std::max<std::int64_t>(after, 0);
  f->run_ended = run_ended;
  follows_.emplace(run_id, std::move(f));
  // Registered before the first catch-up read: whatever the fan-out sees from now on lands
  // in the pending list, and whatever it saw before is already in the store.
  router_->follow_run(run_id, weak_from_this());
}

bool stream_channel::unfollow_run(const std::string& run_id) {
  std::lock_guard lock(mutex_);
  if (follows_.erase(run_id) == 0) return false;
  router_->unfollow_run(run_id, this);
  return true;
}

bool stream_channel::follows_run(const std::string& run_id) const {
  std::lock_guard lock(mutex_);
  return follows_.contains(run_id);
}

void stream_channel::follow_all() {
  std::lock_guard lock(mutex_);
  if (closed_ || close_ || follow_all_) return;
  follow_all_ = true;
  router_->follow_all(weak_from_this());
}

bool stream_channel::unfollow_all() {
  std::lock_guard lock(mutex_);
  if (!follow_all_) return false;
  follow_all_ = false;
  router_->unfollow_all(this);
  return true;
}

bool stream_channel::follows_all() const {
  std::lock_guard lock(mutex_);
  return follow_all_;
}

std::size_t stream_channel::subscription_count() const {
  std::lock_guard lock(mutex_);
  return follows_.size() + (follow_all_ ? 1 : 0);
}

void stream_channel::push_reply(message_ptr m) {
  std::lock_guard lock(mutex_);
  // No wake-up: the transport calls next_batch() right after on_message().
  if (!closed_ && !close_) (void)push_locked(std::move(m));
}

stream_batch stream_channel::next_batch() {
  struct follow_read {
    std::string run_id;
    follow_ptr follow;
  };
  stream_batch out;
  std::vector<follow_read> reads;
  {
    std::lock_guard lock(mutex_);
    drain_outbox_locked(out);
    if (close_) {
      out.close = *close_;
      return out;
    }
    for (const auto& [id, f] : follows_) {
      if (!f->live) reads.push_back({id, f});
    }
    if (reads.empty()) return out;
    // Several runs catching up at once take turns at the page budget.
    std::rotate(reads.begin(),
                reads.begin() + static_cast<std::ptrdiff_t>(read_turn_++ % reads.size()),
                reads.end());
  }

  auto budget = static_cast<std::size_t>(router_->limits().catch_up_page);
  const std::size_t share = std::max<std::size_t>(budget / reads.size(), 1);
  bool behind = false;  // a follow still needs reading though this batch may be empty
  bool stop = false;
  for (const auto& r : reads) {
    if (stop) break;
    for (int attempt = 0;; ++attempt) {
      const std::size_t asked = std::min(share, budget);
      if (asked == 0) break;  // the batch is full: the transport calls again
      if (attempt == k_max_reads_per_follow) {
        behind = true;
        break;
      }
      std::int64_t after = 0;
      {
        std::lock_guard lock(mutex_);
        auto it = follows_.find(r.run_id);
        if (close_ || it == follows_.end() || it->second != r.follow) break;
        after = r.follow->last_seq;
      }
      auto page = router_->read_events(r.run_id, after, static_cast<int>(asked));
      std::lock_guard lock(mutex_);
      if (!page) {
        if (page.error().code == errc::cancelled) {
          close_with_locked({1001, "server shutting down"});
        } else {
          spdlog::warn("stream: reading events of {} failed: {}", r.run_id, describe(page.error()));
          close_with_locked({1011, "could not read the run's events"});
        }
        stop = true;
        break;
      }
      auto it = follows_.find(r.run_id);
      if (close_ || it == follows_.end() || it->second != r.follow) break;
      const auto outcome = take_page_locked(r.run_id, *r.follow, *page, asked, out);
      budget -= std::min(page->size(), budget);
      if (outcome != page_outcome::more || page->size() >= asked) break;
    }
  }

  std::shared_ptr<const std::function<void()>> wake;
  {
    std::lock_guard lock(mutex_);
    drain_outbox_locked(out);
    if (close_) {
      out.close = *close_;
    } else if (out.messages.empty() && behind) {
      wake = waker_;
    }
  }
  if (wake) (*wake)();
  return out;
}

stream_channel::page_outcome stream_channel::take_page_locked(
    const std::string& run_id, run_follow& f, const std::vector<store::event_record>& page,
    std::size_t asked, stream_batch& out) {
  for (const auto& e : page) {
    if (e.seq <= f.last_seq) continue;
    out.messages.push_back(format_stored(e));
    f.last_seq = e.seq;
    if (engine::is_terminal_event(e.type)) {
      end_follow_locked(run_id);
      return page_outcome::ended;
    }
  }
  if (page.size() >= asked) return page_outcome::more;
  // The store had nothing newer when this page was read.
  if (f.run_ended) {
    end_follow_locked(run_id);
    return page_outcome::ended;
  }
  return try_go_live_locked(run_id, f, out);
}

stream_channel::page_outcome stream_channel::try_go_live_locked(const std::string& run_id,
                                                                run_follow& f, stream_batch& out) {
  // Pending events are contiguous from their first one to pending_max_seq; they continue
  // what was sent when they start at or before last_seq + 1 (or nothing newer was seen).
  const bool continues =
      f.pending.empty() ? f.pending_max_seq <= f.last_seq : f.pending.front().seq <= f.last_seq + 1;
  if (!continues) return page_outcome::more;  // dropped on overflow: read them back
  auto pending = std::move(f.pending);
  f.pending.clear();
  f.pending_bytes = 0;
  f.live = true;
  for (auto& p : pending) {
    if (p.seq > f.last_seq) {
      out.messages.push_back(std::move(p.message));
      f.last_seq = p.seq;
    }
    if (p.terminal) {
      end_follow_locked(run_id);
      return page_outcome::ended;
    }
  }
  return page_outcome::live;
}

void stream_channel::end_follow_locked(const std::string& run_id) {
  std::string id = run_id;  // run_id may be the key erased below
  follows_.erase(id);
  router_->unfollow_run(id, this);
  if (kind_ == stream_kind::sse) close_with_locked({1000, "run ended"});
}

bool stream_channel::push_locked(message_ptr m) {
  const auto limit = router_->limits().max_buffer_bytes;
  if (!outbox_.empty() && outbox_bytes_ + m->size() > limit) {
    outbox_.clear();
    outbox_bytes_ = 0;
    close_with_locked(
        {1008, "slow consumer: send buffer of " + std::to_string(limit) + " bytes full"});
    router_->note_slow_consumer();
    return true;
  }
  const bool was_empty = outbox_.empty();
  outbox_bytes_ += m->size();
  outbox_.push_back(std::move(m));
  return was_empty;
}

void stream_channel::leave_router_locked() {
  for (const auto& [id, f] : follows_) router_->unfollow_run(id, this);
  follows_.clear();
  if (follow_all_) {
    router_->unfollow_all(this);
    follow_all_ = false;
  }
}

void stream_channel::close_with_locked(close_reason why) {
  if (!close_) close_ = std::move(why);
  leave_router_locked();
}

void stream_channel::drain_outbox_locked(stream_batch& out) {
  for (auto& m : outbox_) out.messages.push_back(std::move(m));
  outbox_.clear();
  outbox_bytes_ = 0;
}

message_ptr stream_channel::format_stored(const store::event_record& e) const {
  auto json = event_json(e);
  if (kind_ == stream_kind::sse) return std::make_shared<const std::string>(sse_frame(e, json));
  return std::make_shared<const std::string>(std::move(json));
}

void stream_channel::shutdown() {
  std::shared_ptr<const std::function<void()>> wake;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    close_with_locked({1001, "server shutting down"});
    wake = waker_;
  }
  if (wake) (*wake)();
}

void stream_channel::close() {
  std::lock_guard lock(mutex_);
  if (closed_) return;
  closed_ = true;
  leave_router_locked();
  outbox_.clear();
  outbox_bytes_ = 0;
  waker_.reset();  // whatever the transport's waker holds is released with the connection
  router_->remove_channel(this, kind_);
}

void stream_channel::deliver(const live_event& ev, bool wildcard_allowed) {
  std::shared_ptr<const std::function<void()>> wake;
  {
    std::lock_guard lock(mutex_);
    if (closed_ || close_) return;
    const message_ptr& m = kind_ == stream_kind::sse ? ev.sse : ev.json;
    if (!m) return;
    bool woke = false;
    if (auto it = follows_.find(ev.run_id); it != follows_.end()) {
      const follow_ptr f = it->second;  // a copy: end_follow_locked erases the entry
      if (!f->live) {
        // Catch-up: keep it until the stored events reach it (no wake-up: the client's
        // reads drive catch-up). A terminal event is kept whatever its seq so that a
        // follow that started past the end still ends.
        if (ev.seq <= f->last_seq && !ev.terminal) return;
        const auto limit = router_->limits().max_buffer_bytes;
        if (!f->pending.empty() && f->pending_bytes + m->size() > limit) {
          f->pending.clear();  // all stored: catch-up reads them back
          f->pending_bytes = 0;
        }
        f->pending.push_back({ev.seq, ev.terminal, m});
        f->pending_bytes += m->size();
        f->pending_max_seq = std::max(f->pending_max_seq, ev.seq);
        return;
      }
      if (ev.seq > f->last_seq) {
        f->last_seq = ev.seq;
        woke = push_locked(m);
      }
      if (ev.terminal && !close_) {
        end_follow_locked(std::string(ev.run_id));
        woke = woke || close_.has_value();
      }
    } else if (follow_all_ && wildcard_allowed) {
      woke = push_locked(m);
    }
    if (woke) wake = waker_;
  }
  if (wake) (*wake)();
}

}  // namespace grok::api::detail
