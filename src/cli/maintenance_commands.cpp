// `grok prune`, `grok backup`, `grok backup verify` and `grok restore` (SPEC §7): the
// operator's commands for retention and for getting the data back.
#include <signal.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <iostream>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "store/open_store.h"
#include "store/retention.h"
#include "store/sqlite/db_lock.h"
#include "store/sqlite/sqlite_backup.h"

namespace grok::cli {
namespace {

using json = nlohmann::json;
constexpr int k_exit_interrupted = 130;
// Backups at least this large report their progress on stderr.
constexpr std::int64_t k_progress_bytes = std::int64_t{64} * 1024 * 1024;
// The longest --older-than accepted: a century.
constexpr std::int64_t k_max_age_seconds = std::int64_t{100} * 365 * 86'400;

std::string format_time(time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z",
                     std::chrono::time_point_cast<std::chrono::seconds>(t));
}

std::string format_bytes(std::int64_t bytes) {
  const auto b = static_cast<double>(bytes);
  if (bytes >= 1024LL * 1024 * 1024) return fmt::format("{:.1f} GiB", b / (1024.0 * 1024 * 1024));
  if (bytes >= 1024LL * 1024) return fmt::format("{:.1f} MiB", b / (1024.0 * 1024));
  if (bytes >= 1024) return fmt::format("{:.1f} KiB", b / 1024.0);
  return fmt::format("{} bytes", bytes);
}

// "30d", "12h", "45m", "90s": a whole number and one unit.
result<std::chrono::seconds> parse_age(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return fail(errc::invalid_argument, "--older-than '" + std::string(text) +
                                            "': " + std::string(why) +
                                            " (use a whole number and a unit: 30d, 12h, 45m, 90s)");
  };
  if (text.size() < 2) return bad("no number or no unit");
  std::int64_t per_unit = 0;
  switch (text.back()) {
    case 'd':
      per_unit = 86'400;
      break;
    case 'h':
      per_unit = 3'600;
      break;
    case 'm':
      per_unit = 60;
      break;
    case 's':
      per_unit = 1;
      break;
    default:
      return bad("unknown unit");
  }
  const auto digits = text.substr(0, text.size() - 1);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range) return bad("too large");
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.front() == '+') {
    return bad("not a whole number");
  }
  if (value < 0) return bad("negative");
  if (value > k_max_age_seconds / per_unit) return bad("longer than 100 years");
  return std::chrono::seconds(value * per_unit);
}

// The SQLite file of the configured database; PostgreSQL has its own tools.
result<std::string> sqlite_path(const config& c, std::string_view command) {
  auto parsed = store::parse_db_url(c.effective_db());
  if (!parsed) return tl::unexpected(parsed.error());
  if (parsed->kind == store::parsed_db_url::backend::postgres) {
    return fail(errc::unsupported,
                "grok " + std::string(command) +
                    " is for SQLite databases; back up and restore PostgreSQL with its own "
                    "tools (pg_dump / pg_restore)");
  }
  return parsed->path;
}

// Ctrl-C (or SIGTERM) during a long command: the signals are blocked while it runs and
// looked for between its batches, so that a backup never leaves half a file and a prune
// stops between transactions. (interrupt_watch's thread and its messages are about runs.)
class stop_signals {
 public:
  stop_signals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &previous_);
  }
  ~stop_signals() {
    // A signal that arrived is consumed, not delivered when the mask is restored: the
    // command reports it and exits 130 itself.
    if (seen_) {
      const timespec none{0, 0};
      while (sigtimedwait(&set_, nullptr, &none) > 0) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  stop_signals(const stop_signals&) = delete;
  stop_signals& operator=(const stop_signals&) = delete;

  [[nodiscard]] bool pending() {
    if (seen_) return true;
    sigset_t now;
    sigpending(&now);
    seen_ = sigismember(&now, SIGINT) == 1 || sigismember(&now, SIGTERM) == 1;
    return seen_;
  }

 private:
  sigset_t set_{};
  sigset_t previous_{};
  bool seen_ = false;
};

json counts_json(const store::prune_counts& n) {
  return {{"runs", n.runs},
          {"steps", n.steps},
          {"events", n.events},
          {"llm_calls", n.llm_calls},
          {"artifacts", n.artifacts},
          {"artifact_files", n.artifact_files},
          {"jobs", n.jobs}};
}

std::string counts_text(const store::prune_counts& n) {
  return fmt::format("{} run(s) ({} steps, {} events, {} model calls, {} artifacts) and {} job(s)",
                     n.runs, n.steps, n.events, n.llm_calls, n.artifacts, n.jobs);
}

}  // namespace

int run_prune(const config& c, const prune_options& o) {
  std::chrono::seconds age{0};
  if (o.older_than) {
    auto parsed = parse_age(*o.older_than);
    if (!parsed) {
      std::cerr << "grok: error: " << parsed.error().message << "\n";
      return k_exit_usage;
    }
    age = *parsed;
  } else if (c.retention.max_age.count() == 0) {
    std::cerr << "retention.max_age_hours is 0 (keep everything): nothing to prune; pass "
                 "--older-than to prune anyway\n";
    return k_exit_ok;
  } else {
    age = c.retention.max_age;
  }
  stop_signals signals;
  auto st =
      store::open_store({.url = c.effective_db(), .create_if_missing = false, .migrate = false});
  if (!st) return report_error(describe(st.error()));

  store::prune_request req;
  req.cutoff = (*st)->store_clock().now() - age;
  req.batch_size = c.retention.batch_size;
  req.dry_run = o.dry_run;
  req.artifacts_root = c.data_dir.empty() ? std::string(".") : c.data_dir;
  if (auto path = sqlite_path(c, "prune")) {
    const auto& db = *path;
    req.protect = {db, db + "-wal", db + "-shm", db + "-journal",
                   store::sqlite::db_lock::lock_path(db)};
  }
  auto last_report = std::chrono::steady_clock::now();
  req.on_progress = [&](const store::prune_counts& so_far) {
    const auto now = std::chrono::steady_clock::now();
    if (o.dry_run || now - last_report < std::chrono::seconds(1)) return;
    last_report = now;
    std::cerr << "pruning: " << counts_text(so_far) << " deleted so far\n";
  };
  req.should_stop = [&signals] { return signals.pending(); };
  auto pruned = store::prune_store(**st, req);
  if (!pruned) return report_error(describe(pruned.error()));

  if (o.json) {
    auto out = counts_json(*pruned);
    out["dry_run"] = o.dry_run;
    out["cutoff"] = format_time(req.cutoff);
    out["interrupted"] = signals.pending();
    std::cout << out.dump() << "\n";
  } else {
    std::cout << (o.dry_run ? "would delete " : "deleted ") << counts_text(*pruned)
              << " that ended before " << format_time(req.cutoff) << "\n";
    if (pruned->artifact_files > 0) {
      std::cout << "removed " << pruned->artifact_files << " artifact file(s)\n";
    }
  }
  if (signals.pending()) {
    std::cerr << "interrupted: the batches already deleted stay deleted\n";
    return k_exit_interrupted;
  }
  return k_exit_ok;
}

int run_backup(const config& c, const std::string& to) {
  auto db = sqlite_path(c, "backup");
  if (!db) return report_error(db.error().message);

  stop_signals signals;
  store::sqlite::backup_options options;
  auto last_report = std::chrono::steady_clock::now();
  options.on_progress = [&](const store::sqlite::backup_progress& p) {
    const auto now = std::chrono::steady_clock::now();
    const auto total = p.pages_total * p.page_size;
    const bool finished = p.pages_done >= p.pages_total;
    if (total < k_progress_bytes || (!finished && now - last_report < std::chrono::seconds(1))) {
      return;
    }
    last_report = now;
    std::cerr << fmt::format("backup: {}% of {}\n",
                             p.pages_done * 100 / std::max<std::int64_t>(p.pages_total, 1),
                             format_bytes(total));
  };
  options.should_stop = [&signals] { return signals.pending(); };
  auto info = store::sqlite::backup_database(*db, to, options);
  if (!info) {
    if (info.error().code == errc::cancelled) {
      std::cerr << "interrupted: no backup was written\n";
      return k_exit_interrupted;
    }
    return report_error(describe(info.error()));
  }
  std::cout << fmt::format("{}\t{} bytes ({}, {:.1f} s)\n", info->path, info->bytes,
                           format_bytes(info->bytes),
                           static_cast<double>(info->duration.count()) / 1000.0);
  return k_exit_ok;
}

int run_backup_verify(const config& /*c*/, const std::string& path, bool json_out) {
  auto report = store::sqlite::verify_database(path);
  if (!report) {
    if (json_out) {
      std::cout
          << json{{"path", path}, {"ok", false}, {"problems", {report.error().message}}}.dump()
          << "\n";
      return k_exit_error;
    }
    return report_error(report.error().message);
  }
  if (json_out) {
    json tables = json::object();
    for (const auto& t : report->tables) tables[t.table] = t.rows;
    std::cout << json{{"path", report->path},
                      {"ok", report->ok()},
                      {"bytes", report->bytes},
                      {"schema_version", report->schema_version},
                      {"expected_schema_version", report->expected_schema_version},
                      {"tables", tables},
                      {"problems", report->problems}}
                     .dump()
              << "\n";
    return report->ok() ? k_exit_ok : k_exit_error;
  }
  std::cout << fmt::format("{}: {} ({}, schema version {}; this grok: {})\n", report->path,
                           report->ok() ? "ok" : "PROBLEMS", format_bytes(report->bytes),
                           report->schema_version, report->expected_schema_version);
  std::cout << fmt::format("{:<24} {:>12}\n", "TABLE", "ROWS");
  for (const auto& t : report->tables) std::cout << fmt::format("{:<24} {:>12}\n", t.table, t.rows);
  for (const auto& p : report->problems) std::cerr << "problem: " << p << "\n";
  return report->ok() ? k_exit_ok : k_exit_error;
}

int run_restore(const config& c, const restore_options& o) {
  auto db = sqlite_path(c, "restore");
  if (!db) return report_error(db.error().message);
  auto restored = store::sqlite::restore_database(o.from, *db, o.force);
  if (!restored) return report_error(restored.error().message);
  std::int64_t runs = 0;
  for (const auto& t : restored->verified.tables) {
    if (t.table == "runs") runs = t.rows;
  }
  std::cout << fmt::format("restored {} from {} ({} runs, schema version {}){}\n", *db, o.from,
                           runs, restored->verified.schema_version,
                           restored->replaced ? "; the previous database was replaced" : "");
  return k_exit_ok;
}

}  // namespace grok::cli
