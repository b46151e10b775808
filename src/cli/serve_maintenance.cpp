// The maintenance part of `grok serve` (cli/serve_parts.h): one thread that prunes on the
// retention schedule and takes backups on the backup schedule (SPEC §7).
//
// Backups are named by their UTC start time (grok-20261201T153000Z.db), so that names sort
// by time; after each one only the newest `backup.keep` files of that form are kept (other
// files in the directory are never touched). The first backup is due one interval after
// the newest one already in the directory, or at once when there is none, so restarts
// neither skip nor repeat backups. Pruning runs at start and every retention interval.
//
// Thread-safety: the thread sleeps on a condition variable; destroying the part wakes it,
// stops a prune between batches and a backup between steps (its temporary file removed),
// and joins it.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/serve_parts.h"
#include "obs/metrics.h"
#include "store/open_store.h"
#include "store/retention.h"
#include "store/sqlite/db_lock.h"
#include "store/sqlite/sqlite_backup.h"

namespace grok::cli {
namespace {

namespace fs = std::filesystem;
using sys_seconds = std::chrono::sys_seconds;
using steady = std::chrono::steady_clock;

constexpr std::string_view k_backup_prefix = "grok-";
constexpr std::string_view k_backup_suffix = "Z.db";
// How often a long prune or backup reports its progress in the log.
constexpr auto k_progress_every = std::chrono::seconds(10);

std::string backup_name(sys_seconds t) { return fmt::format("grok-{:%Y%m%dT%H%M%S}Z.db", t); }

// The time in a scheduled backup's name; nothing for any other name.
std::optional<sys_seconds> parse_backup_name(std::string_view name) {
  // grok- YYYYMMDD T HHMMSS Z.db
  if (name.size() != k_backup_prefix.size() + 15 + k_backup_suffix.size() ||
      name.substr(0, k_backup_prefix.size()) != k_backup_prefix ||
      name.substr(name.size() - k_backup_suffix.size()) != k_backup_suffix) {
    return std::nullopt;
  }
  const auto stamp = name.substr(k_backup_prefix.size(), 15);
  if (stamp[8] != 'T') return std::nullopt;
  const auto number = [&](std::size_t at, std::size_t len) -> std::optional<int> {
    int v = 0;
    const auto* first = stamp.data() + at;
    const auto [end, ec] = std::from_chars(first, first + len, v);
    if (ec != std::errc() || end != first + len) return std::nullopt;
    return v;
  };
  const auto y = number(0, 4), mo = number(4, 2), d = number(6, 2), h = number(9, 2),
             mi = number(11, 2), s = number(13, 2);
  if (!y || !mo || !d || !h || !mi || !s || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  const std::chrono::year_month_day day{std::chrono::year(*y),
                                        std::chrono::month(static_cast<unsigned>(*mo)),
                                        std::chrono::day(static_cast<unsigned>(*d))};
  if (!day.ok()) return std::nullopt;
  return std::chrono::sys_days(day) + std::chrono::hours(*h) + std::chrono::minutes(*mi) +
         std::chrono::seconds(*s);
}

// Scheduled backups in `dir`, oldest first (their names sort by time).
std::vector<fs::path> list_backups(const fs::path& dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && parse_backup_name(it->path().filename().string())) {
      found.push_back(it->path());
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

class maintenance final : public serve_part {
 public:
  maintenance(const config& c, store::store& st, std::optional<std::string> sqlite_db)
      : config_(c), store_(st), sqlite_db_(std::move(sqlite_db)) {
    auto& m = obs::metrics();
    backups_ = &m.counter("grok_backups_total", "Scheduled backups taken, by outcome (ok, error)",
                          {"outcome"});
    backups_->inc({"ok"}, 0);
    backups_->inc({"error"}, 0);
    last_backup_ = &m.gauge("grok_backup_last_success_timestamp_seconds",
                            "Unix time at which the last successful scheduled backup ended");
    pruned_runs_ = &m.counter("grok_pruned_runs_total", "Runs deleted by scheduled retention");
    pruned_runs_->inc({}, 0);
    thread_ = std::thread([this] { loop(); });
  }
  ~maintenance() override {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  maintenance(const maintenance&) = delete;
  maintenance& operator=(const maintenance&) = delete;

 private:
  [[nodiscard]] bool prune_enabled() const {
    return config_.retention.interval.count() > 0 && config_.retention.max_age.count() > 0;
  }
  [[nodiscard]] bool backup_enabled() const {
    return config_.backup.interval.count() > 0 && sqlite_db_.has_value();
  }

  // When the first backup is due: one interval after the newest backup present.
  [[nodiscard]] steady::time_point first_backup_due() const {
    const auto existing = list_backups(config_.effective_backup_dir());
    if (existing.empty()) return steady::now();
    const auto newest = parse_backup_name(existing.back().filename().string());
    const auto due = *newest + config_.backup.interval;
    const auto now =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    return due <= now ? steady::now() : steady::now() + (due - now);
  }

  void loop() {
    constexpr auto k_never = steady::time_point::max();
    auto next_prune = prune_enabled() ? steady::now() : k_never;
    auto next_backup = backup_enabled() ? first_backup_due() : k_never;
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      const auto next = std::min(next_prune, next_backup);
      if (next == k_never) {
        wake_.wait(lock, [this] { return stopping_; });
        break;
      }
      if (wake_.wait_until(lock, next, [this] { return stopping_; })) break;
      lock.unlock();
      const auto now = steady::now();
      if (now >= next_prune) {
        prune_once();
        next_prune = steady::now() + config_.retention.interval;
      }
      if (now >= next_backup) {
        next_backup = now + config_.backup.interval;  // the schedule counts from the start
        backup_once();
      }
      lock.lock();
    }
  }

  [[nodiscard]] bool stopping() {
    const std::lock_guard lock(mutex_);
    return stopping_;
  }

  void prune_once() {
    store::prune_request req;
    req.cutoff = store_.store_clock().now() - config_.retention.max_age;
    req.batch_size = config_.retention.batch_size;
    req.artifacts_root = config_.data_dir.empty() ? std::string(".") : config_.data_dir;
    if (sqlite_db_) {
      const auto& db = *sqlite_db_;
      req.protect = {db, db + "-wal", db + "-shm", db + "-journal",
                     store::sqlite::db_lock::lock_path(db)};
    }
    auto last_report = steady::now();
    req.on_progress = [&](const store::prune_counts& n) {
      if (steady::now() - last_report < k_progress_every) return;
      last_report = steady::now();
      spdlog::info("retention: pruning, {} runs and {} jobs deleted so far", n.runs, n.jobs);
    };
    req.should_stop = [this] { return stopping(); };
    const auto started = steady::now();
    auto pruned = store::prune_store(store_, req);
    if (!pruned) {
      spdlog::warn("retention: prune failed: {}", describe(pruned.error()));
      return;
    }
    pruned_runs_->inc({}, static_cast<double>(pruned->runs));
    if (pruned->runs == 0 && pruned->jobs == 0) return;
    spdlog::info(
        "retention: deleted {} runs ({} steps, {} events, {} model calls, {} artifacts, {} "
        "files) and {} jobs that ended before {:%Y-%m-%dT%H:%M:%S}Z in {} ms",
        pruned->runs, pruned->steps, pruned->events, pruned->llm_calls, pruned->artifacts,
        pruned->artifact_files, pruned->jobs,
        std::chrono::time_point_cast<std::chrono::seconds>(req.cutoff),
        std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started).count());
  }

  void backup_once() {
    const fs::path dir = config_.effective_backup_dir();
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!ec) ::chmod(dir.c_str(), 0700);  // backups hold every run and the key hashes
    const auto now =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    const auto path = (dir / backup_name(now)).string();
    store::sqlite::backup_options options;
    options.should_stop = [this] { return stopping(); };
    auto last_report = steady::now();
    options.on_progress = [&](const store::sqlite::backup_progress& p) {
      if (steady::now() - last_report < k_progress_every || p.pages_done >= p.pages_total) return;
      last_report = steady::now();
      spdlog::info("backup: {} at {}% of {} pages", path, p.pages_done * 100 / p.pages_total,
                   p.pages_total);
    };
    auto info = store::sqlite::backup_database(*sqlite_db_, path, options);
    if (!info) {
      if (info.error().code == errc::cancelled) return;  // shutting down
      backups_->inc({"error"});
      spdlog::error("backup: {} failed: {}", path, describe(info.error()));
      return;
    }
    backups_->inc({"ok"});
    last_backup_->set({},
                      static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count()));
    spdlog::info("backup: wrote {} ({} bytes) in {} ms", info->path, info->bytes,
                 info->duration.count());
    remove_old_backups(dir);
  }

  void remove_old_backups(const fs::path& dir) const {
    auto all = list_backups(dir);
    const auto keep = static_cast<std::size_t>(std::max(config_.backup.keep, 1));
    for (std::size_t i = 0; i + keep < all.size(); ++i) {
      std::error_code ec;
      if (fs::remove(all[i], ec)) {
        spdlog::info("backup: removed {} (keeping the newest {})", all[i].string(), keep);
      } else if (ec) {
        spdlog::warn("backup: cannot remove {}: {}", all[i].string(), ec.message());
      }
    }
  }

  const config config_;  // a copy: the thread must not depend on the caller's
  store::store& store_;
  const std::optional<std::string> sqlite_db_;  // empty: not SQLite, no backups
  obs::counter_family* backups_ = nullptr;
  obs::gauge_family* last_backup_ = nullptr;
  obs::counter_family* pruned_runs_ = nullptr;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;     // last: starts after everything above is ready
};

}  // namespace

result<serve_part_ptr> start_maintenance(const config& c, runtime& rt) {
  auto parsed = store::parse_db_url(c.effective_db());
  if (!parsed) return tl::unexpected(parsed.error());
  std::optional<std::string> sqlite_db;
  if (parsed->kind == store::parsed_db_url::backend::sqlite) {
    sqlite_db = parsed->path;
  } else if (c.backup.interval.count() > 0) {
    spdlog::warn("backup: scheduled backups are for SQLite; back up PostgreSQL with pg_dump");
  }
  if (c.backup.interval.count() > 0 && sqlite_db) {
    spdlog::info("backup: every {} s into {}, keeping the newest {}", c.backup.interval.count(),
                 c.effective_backup_dir(), c.backup.keep);
  }
  if (c.retention.interval.count() > 0 && c.retention.max_age.count() > 0) {
    spdlog::info("retention: every {} s, deleting runs that ended more than {} h ago",
                 c.retention.interval.count(), c.retention.max_age.count());
  }
  return std::make_unique<maintenance>(c, *rt.store, std::move(sqlite_db));
}

}  // namespace grok::cli
