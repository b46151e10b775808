#include "store/postgres/pg_listener.h"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <random>

#include <spdlog/spdlog.h>

#include "store/postgres/pg_rows.h"
#include "store/postgres/pg_store.h"

namespace grok::store::postgres {
namespace {

constexpr int k_page = 500;
// How far before the moment the connection was lost the catch-up looks for runs that
// ended: room for clocks of different hosts that disagree a little.
constexpr std::int64_t k_catch_up_margin_ms = 60'000;
// Ended runs are remembered this long (a late notification for one is then recognized).
constexpr auto k_forget_after = std::chrono::minutes(10);
constexpr std::size_t k_max_remembered_runs = 100'000;

// The terminal event types (engine/events.h is_terminal_event; the store does not depend
// on the engine).
bool is_terminal(std::string_view type) {
  return type == "run.completed" || type == "run.failed" || type == "run.cancelled";
}

const std::string& process_token() {
  static const std::string token = [] {
    std::random_device rd;
    std::uint64_t v = (std::uint64_t{rd()} << 32) ^ rd() ^ static_cast<std::uint64_t>(getpid());
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return std::string(buf);
  }();
  return token;
}

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool parse_int(std::string_view s, std::int64_t& out) {
  if (s.empty()) return false;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > (INT64_MAX - 9) / 10) return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::string pg_listener::jobs_payload(std::size_t ready_jobs) {
  return process_token() + " " + std::to_string(ready_jobs);
}

std::string pg_listener::events_payload(std::string_view run_id, std::int64_t first,
                                        std::int64_t last) {
  return std::string(run_id) + " " + std::to_string(first) + " " + std::to_string(last);
}

pg_listener::pg_listener(pg_store& owner) : owner_(owner) {}

result<std::unique_ptr<pg_listener>> pg_listener::start(pg_store& owner) {
  std::unique_ptr<pg_listener> l(new pg_listener(owner));
  l->stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (l->stop_fd_ < 0) return fail(errc::io, "eventfd failed for the PostgreSQL listener");
  // The first connection is made here, so that a store that opened is listening.
  if (!l->connect()) {
    return fail(errc::unavailable, "cannot LISTEN on PostgreSQL (the server went away?)", true);
  }
  l->thread_ = std::thread([p = l.get()] { p->run(); });
  return l;
}

pg_listener::~pg_listener() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    if (write(stop_fd_, &one, sizeof one) < 0) {
      // The eventfd cannot be full after one write; nothing else can fail here.
    }
    thread_.join();
  }
  if (stop_fd_ >= 0) close(stop_fd_);
}

bool pg_listener::connect() {
  auto opened = connection::open(owner_.options_.url, owner_.options_.connect_timeout);
  if (!opened) return false;
  conn_ = std::move(*opened);
  const std::string listen =
      owner_.options_.follow_events ? "LISTEN grok_jobs; LISTEN grok_events" : "LISTEN grok_jobs";
  if (auto r = conn_->exec_script(listen); !r) {
    conn_.reset();
    return false;
  }
  const bool reconnect = seeded_ || disconnected_at_ms_ != 0;
  if (disconnected_at_ms_ == 0) disconnected_at_ms_ = to_unix_ms(owner_.clock_.now());
  if (owner_.options_.follow_events) {
    if (!seeded_) {
      // LISTEN came first: an event committed after this read is notified, one committed
      // before it is counted as published (older events are read from the store).
      auto r = conn_->exec(
          "SELECT id, last_seq FROM runs WHERE status IN ('queued','running','awaiting_input')");
      if (!r) {
        conn_.reset();
        return false;
      }
      for (int i = 0; i < r->size(); ++i) runs_[r->text(i, 0)].published = r->int64(i, 1);
      disconnected_at_ms_ = 0;
    } else {
      catch_up_needed_ = !catch_up(disconnected_at_ms_ - k_catch_up_margin_ms);
    }
  } else {
    disconnected_at_ms_ = 0;
  }
  seeded_ = true;
  if (reconnect) spdlog::info("PostgreSQL listener reconnected");
  connected_ = true;
  // Anything enqueued while we were away is claimable now.
  owner_.signal_.notify();
  owner_.events_signal_.notify();
  return true;
}

void pg_listener::run() {
  millis backoff{0};
  while (true) {
    if (!conn_) {
      if (connect()) {
        backoff = millis(0);
        continue;
      }
      backoff = std::min(millis(2'000), backoff.count() == 0 ? millis(50) : backoff * 2);
      pollfd stop{stop_fd_, POLLIN, 0};
      if (poll(&stop, 1, static_cast<int>(backoff.count())) > 0) return;
      continue;
    }
    pollfd fds[2] = {{PQsocket(conn_->handle()), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    const int n = poll(fds, 2, catch_up_needed_ ? 500 : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::error("PostgreSQL listener: poll failed: {}", std::strerror(errno));
      return;
    }
    if ((fds[1].revents & POLLIN) != 0) return;
    if (n == 0) {
      catch_up_needed_ = !catch_up(disconnected_at_ms_ - k_catch_up_margin_ms);
      continue;
    }
    if (PQconsumeInput(conn_->handle()) == 0 || PQstatus(conn_->handle()) != CONNECTION_OK) {
      spdlog::warn("PostgreSQL listener lost its connection; reconnecting");
      conn_.reset();
      connected_ = false;
      disconnected_at_ms_ = to_unix_ms(owner_.clock_.now());
      continue;
    }
    drain_notifications();
    if (conn_ && !conn_->healthy()) {
      conn_.reset();
      connected_ = false;
      disconnected_at_ms_ = to_unix_ms(owner_.clock_.now());
    }
  }
}

void pg_listener::drain_notifications() {
  while (conn_) {
    PGnotify* n = PQnotifies(conn_->handle());
    if (n == nullptr) break;
    const std::string channel = n->relname;
    const std::string payload = n->extra != nullptr ? n->extra : "";
    PQfreemem(n);
    if (channel == "grok_jobs") {
      on_jobs(payload);
    } else if (channel == "grok_events") {
      on_events(payload);
    }
  }
}

void pg_listener::on_jobs(std::string_view payload) {
  const auto space = payload.find(' ');
  std::int64_t count = 0;
  if (space == std::string_view::npos || !parse_int(payload.substr(space + 1), count)) {
    owner_.signal_.notify();
    return;
  }
  if (payload.substr(0, space) == process_token()) return;  // woken at commit already
  owner_.signal_.notify_some(static_cast<std::size_t>(count));
}

void pg_listener::on_events(std::string_view payload) {
  // "<run id> <first> <last>"; run ids contain no spaces.
  const auto last_space = payload.rfind(' ');
  if (last_space == std::string_view::npos || last_space == 0) return;
  const auto mid_space = payload.rfind(' ', last_space - 1);
  if (mid_space == std::string_view::npos) return;
  std::int64_t first = 0;
  std::int64_t last = 0;
  if (!parse_int(payload.substr(mid_space + 1, last_space - mid_space - 1), first) ||
      !parse_int(payload.substr(last_space + 1), last) || first < 1 || last < first) {
    return;
  }
  const std::string run_id(payload.substr(0, mid_space));
  auto it = runs_.find(run_id);
  const std::int64_t from = it != runs_.end() ? it->second.published : first - 1;
  if (last <= from) return;
  if (!publish_run(run_id, from, last)) {
    catch_up_needed_ = true;
    if (disconnected_at_ms_ == 0) disconnected_at_ms_ = to_unix_ms(owner_.clock_.now());
  }
  if (runs_.size() > 1'000) forget_old_runs();
}

bool pg_listener::publish_run(const std::string& run_id, std::int64_t from, std::int64_t last) {
  auto& progress = runs_[run_id];
  progress.published = std::max(progress.published, from);
  std::int64_t after = progress.published;
  bool published_any = false;
  while (conn_) {
    auto r = conn_->exec(std::string("SELECT ") + k_event_columns +
                             " FROM events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                         params().add(run_id).add(after).add(k_page));
    if (!r) return false;
    if (r->empty()) break;
    auto events = collect<event_record>(*r, read_event);
    after = events.back().seq;
    progress.published = after;
    for (const auto& e : events) {
      if (is_terminal(e.type)) {
        progress.ended = true;
        progress.ended_at_ms = steady_ms();
      }
    }
    owner_.feed_.publish(events);
    published_any = true;
    if ((last > 0 && after >= last) || r->size() < k_page) break;
  }
  if (published_any) owner_.events_signal_.notify();
  return conn_ != nullptr;
}

bool pg_listener::catch_up(std::int64_t since_ms) {
  if (!conn_) return false;
  auto r = conn_->exec(
      "SELECT id, last_seq FROM runs WHERE last_seq > 0 AND "
      "(status IN ('queued','running','awaiting_input') OR finished_at >= $1) ORDER BY id",
      params().add(since_ms));
  if (!r) return false;
  for (int i = 0; i < r->size(); ++i) {
    const std::string id = r->text(i, 0);
    const std::int64_t last_seq = r->int64(i, 1);
    auto it = runs_.find(id);
    // Unknown here: created while the connection was down (or its notification was lost).
    const std::int64_t from = it != runs_.end() ? it->second.published : 0;
    if (last_seq <= from) continue;
    if (!publish_run(id, from, last_seq)) return false;
  }
  disconnected_at_ms_ = 0;
  return true;
}

void pg_listener::forget_old_runs() {
  const auto now = steady_ms();
  const auto keep_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(k_forget_after).count();
  for (auto it = runs_.begin(); it != runs_.end();) {
    const bool old = it->second.ended && (now - it->second.ended_at_ms >= keep_ms ||
                                          runs_.size() > k_max_remembered_runs);
    it = old ? runs_.erase(it) : std::next(it);
  }
}

}  // namespace grok::store::postgres
