#include "obs/audit_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "core/sha256.h"
#include "obs/audit_format.h"
#include "obs/json_log.h"
#include "obs/metrics.h"

namespace grok::obs {

using json = nlohmann::json;

namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_lock_name = "audit.lock";
// Longest time between two warnings about dropped events (their totals are kept).
constexpr auto k_drop_warning_interval = std::chrono::seconds(10);

std::string errno_text(int e) { return std::strerror(e); }

// Closes a file descriptor when it goes out of scope.
class fd_guard {
 public:
  explicit fd_guard(int fd = -1) noexcept : fd_(fd) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() { reset(); }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  [[nodiscard]] int get() const noexcept { return fd_; }

 private:
  int fd_;
};

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// The end of a file: its last newline-terminated line and any bytes after it.
struct file_tail {
  std::int64_t size = 0;
  std::optional<std::string> last_line;  // without its newline
  std::optional<std::string> torn;       // bytes after the last newline
  std::int64_t torn_offset = 0;
};

result<file_tail> read_tail(const audit_file& f) {
  fd_guard fd(::open(f.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return fail(errc::io, "cannot open " + f.path + ": " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(errc::io, "cannot stat " + f.path);
  file_tail t;
  t.size = st.st_size;
  if (t.size == 0) return t;
  // Two whole lines at most fit in this window.
  const auto window =
      std::min<std::int64_t>(t.size, static_cast<std::int64_t>(2 * k_max_audit_line_bytes + 2));
  const auto from = t.size - window;
  std::string buf(static_cast<std::size_t>(window), '\0');
  std::size_t got = 0;
  while (got < buf.size()) {
    const auto n = ::pread(fd.get(), buf.data() + got, buf.size() - got,
                           static_cast<off_t>(from) + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(errc::io, "cannot read " + f.path + ": " + errno_text(errno));
    got += static_cast<std::size_t>(n);
  }
  const auto last_newline = buf.rfind('\n');
  if (buf.back() != '\n') {
    const auto start = last_newline == std::string::npos ? 0 : last_newline + 1;
    if (last_newline == std::string::npos && from > 0) {
      return fail(errc::corrupt, f.name + " ends in a line longer than any audit line");
    }
    t.torn = buf.substr(start);
    t.torn_offset = from + static_cast<std::int64_t>(start);
  }
  if (last_newline == std::string::npos) return t;
  const auto before = last_newline == 0 ? std::string::npos : buf.rfind('\n', last_newline - 1);
  if (before == std::string::npos && from > 0) {
    return fail(errc::corrupt, f.name + " has a line longer than any audit line");
  }
  const auto start = before == std::string::npos ? 0 : before + 1;
  t.last_line = buf.substr(start, last_newline - start);
  return t;
}

// An item of the queue: an event, or the mark of events dropped at this place.
struct queued {
  audit_event event;
  std::int64_t dropped = 0;  // > 0: a mark
};

std::size_t weight(const audit_event& e) noexcept {
  return e.body_json.size() + e.run_id.size() + e.type.size() + 64;
}

}  // namespace

audit_options audit_options_from(const config& c) {
  audit_options o;
  o.dir = c.effective_audit_dir();
  o.max_file_bytes = c.audit.max_file_bytes;
  o.keep_files = c.audit.keep_files;
  o.allow_fields = c.audit.allow_fields;
  o.secret = c.audit.secret;
  return o;
}

struct audit_writer::impl {
  explicit impl(audit_options o)
      : options(std::move(o)),
        allow(options.allow_fields),
        file_clock(options.file_clock ? *options.file_clock : system_clock::instance()),
        lines_metric(
            metrics().counter("grok_audit_lines_total", "Lines appended to the audit log")),
        dropped_metric(metrics().counter(
            "grok_audit_lines_dropped_total",
            "Run events the audit log could not write (its queue was full, or a write failed)")) {}

  const audit_options options;
  const field_allow_list allow;
  const clock& file_clock;
  counter_family& lines_metric;
  counter_family& dropped_metric;
  fd_guard lock_fd;

  // Shared with submit(); guarded by mutex.
  mutable std::mutex mutex;
  std::condition_variable wake;       // the writer: work or stop
  std::condition_variable processed;  // flush(): a batch is done
  std::vector<queued> queue;
  std::size_t queued_bytes = 0;
  std::size_t queued_events = 0;
  std::uint64_t submitted_ticket = 0;  // submit() calls so far
  std::uint64_t done_ticket = 0;       // submit() calls whose events are written or dropped
  bool stopping = false;
  counters_view counts;

  // The writer thread's own state (and start()'s, before the thread exists).
  fd_guard file;
  audit_file current;
  std::int64_t current_size = 0;
  std::uint64_t next_number = 1;
  bool need_new_file = true;
  chain_state chain;
  json recovered = json::array();  // torn tails for the next file's header
  std::int64_t failed_events = 0;  // lost to a failed write, not yet recorded
  std::string buffer;              // lines not yet written to `file`
  chain_state buffer_chain;        // the chain before `buffer`
  std::int64_t buffer_lines = 0;
  std::int64_t buffer_events = 0;    // run events in `buffer`
  std::int64_t buffer_reported = 0;  // dropped events that audit.dropped lines in it report
  bool file_has_lines = false;       // `current` holds more than its header line
  std::int64_t warned_drops = 0;     // dropped events already warned about
  std::chrono::steady_clock::time_point last_warning{};
  std::chrono::steady_clock::time_point last_failure_log{};

  std::thread thread;

  void run();
  void process(std::vector<queued>& batch);
  void put_event(const audit_event& e, const std::string& today);
  void put_dropped(std::int64_t count, std::string_view reason, const std::string& today);
  // `reports`: for an audit.dropped line, the events it reports; for an event, -1.
  void put(json record, const std::string& today, std::int64_t reports);
  result<void> open_new_file(const std::string& today);
  bool commit_buffer();
  void sync_file();
  void delete_old_files();
  void warn_drops(std::int64_t total);
  // At most one error line per k_drop_warning_interval while the disk keeps failing.
  bool may_log_failure() {
    const auto now = std::chrono::steady_clock::now();
    if (last_failure_log != std::chrono::steady_clock::time_point{} &&
        now - last_failure_log < k_drop_warning_interval) {
      return false;
    }
    last_failure_log = now;
    return true;
  }
  std::string now_text() const { return format_rfc3339_ms(file_clock.now()); }
};

result<std::unique_ptr<audit_writer>> audit_writer::start(audit_options options) {
  auto p = std::make_unique<impl>(std::move(options));
  const auto& dir = p->options.dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return fail(errc::io, "cannot create the audit directory " + dir + ": " + ec.message());
    fs::permissions(dir, fs::perms::owner_all, ec);
  }
  p->lock_fd.reset(
      ::open((fs::path(dir) / k_lock_name).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (p->lock_fd.get() < 0) {
    return fail(errc::io, "cannot open the audit lock in " + dir + ": " + errno_text(errno));
  }
  if (::flock(p->lock_fd.get(), LOCK_EX | LOCK_NB) != 0) {
    return fail(errc::busy, "another process writes the audit log in " + dir);
  }
  auto files = list_audit_files(dir);
  if (!files) return tl::unexpected(files.error());

  // Where the chain continues: the last whole line, walking back over files that hold
  // none (empty, or only a torn line); every torn tail found is recorded.
  start_report report;
  std::optional<sealed_line> last;
  bool append_newest = false;
  for (auto i = files->size(); i-- > 0;) {
    const auto& f = (*files)[i];
    auto tail = read_tail(f);
    if (!tail) return tl::unexpected(tail.error());
    if (tail->torn) {
      if (auto whole = parse_sealed_line(*tail->torn)) {
        last = std::move(*whole);  // only its newline is missing
        break;
      }
      p->recovered.push_back({{"file", f.name},
                              {"offset", tail->torn_offset},
                              {"bytes", tail->torn->size()},
                              {"sha256", sha256_hex(*tail->torn)}});
    }
    if (tail->last_line) {
      auto line = parse_sealed_line(*tail->last_line);
      if (!line) {
        return fail(errc::corrupt,
                    "the audit log's last line (in " + f.name + ") is not an audit line (" +
                        line.error().message +
                        "); run `grok audit verify` and move the damaged file aside");
      }
      last = std::move(*line);
      append_newest = i + 1 == files->size() && !tail->torn;
      if (append_newest) p->current_size = tail->size;
      break;
    }
  }
  if (last) {
    p->chain = {last->hash, last->audit_seq};
    report.audit_seq = last->audit_seq;
    report.keyed_before = last->alg == k_alg_hmac;
    if (report.keyed_before && !p->options.secret.empty() &&
        !hash_matches(*last, p->options.secret)) {
      spdlog::warn(
          "audit: the last line of the audit log does not verify with the configured "
          "secret (the secret changed, or the line was edited); continuing the chain");
    }
    if (report.keyed_before && p->options.secret.empty()) {
      spdlog::warn(
          "audit: the audit log was keyed, but no audit secret is configured: new lines "
          "are chained with SHA-256 only");
    }
  }
  if (!files->empty()) p->next_number = files->back().number + 1;
  const auto today = utc_date(p->file_clock.now());
  if (append_newest && files->back().date == today && p->current_size < p->options.max_file_bytes) {
    p->current = files->back();
    p->file.reset(::open(p->current.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
    if (p->file.get() < 0) {
      return fail(errc::io, "cannot open " + p->current.path + ": " + errno_text(errno));
    }
    p->need_new_file = false;
    p->file_has_lines = true;
  }
  if (!p->recovered.empty()) {
    report.torn_tail = true;
    spdlog::warn(
        "audit: {} ended in a torn line (a crash while writing); it is kept as it is, "
        "and the next file's first line records it",
        p->recovered.back()["file"].get<std::string>());
    // Record it now, so that the log verifies even if no event follows.
    if (auto opened = p->open_new_file(today); !opened) return tl::unexpected(opened.error());
    if (!p->commit_buffer()) return fail(errc::io, "cannot write to the audit directory " + dir);
    p->sync_file();
  }
  report.file = p->current.name;
  p->thread = std::thread([raw = p.get()] { raw->run(); });
  auto writer = std::unique_ptr<audit_writer>(new audit_writer(std::move(p)));
  writer->report_ = std::move(report);
  return writer;
}

audit_writer::audit_writer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

audit_writer::~audit_writer() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void audit_writer::submit(std::vector<audit_event> events) {
  if (events.empty()) return;
  std::size_t bytes = 0;
  for (const auto& e : events) bytes += weight(e);
  {
    std::lock_guard lock(impl_->mutex);
    auto& p = *impl_;
    ++p.submitted_ticket;
    if (p.queued_events + events.size() > p.options.max_queue_events ||
        p.queued_bytes + bytes > p.options.max_queue_bytes) {
      const auto n = static_cast<std::int64_t>(events.size());
      if (!p.queue.empty() && p.queue.back().dropped > 0) {
        p.queue.back().dropped += n;
      } else {
        p.queue.push_back(queued{{}, n});
      }
      p.counts.events_dropped += n;
      p.dropped_metric.inc({}, static_cast<double>(n));
    } else {
      for (auto& e : events) p.queue.push_back(queued{std::move(e), 0});
      p.queued_events += events.size();
      p.queued_bytes += bytes;
    }
  }
  impl_->wake.notify_one();
}

bool audit_writer::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  const auto ticket = impl_->submitted_ticket;
  return impl_->processed.wait_for(lock, timeout, [&] { return impl_->done_ticket >= ticket; });
}

audit_writer::counters_view audit_writer::counters() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->counts;
}

void audit_writer::impl::run() {
  std::vector<queued> batch;
  for (;;) {
    std::uint64_t ticket = 0;
    {
      std::unique_lock lock(mutex);
      wake.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty() && stopping) break;
      batch.swap(queue);
      queued_events = 0;
      queued_bytes = 0;
      ticket = submitted_ticket;
    }
    process(batch);
    batch.clear();
    {
      std::lock_guard lock(mutex);
      done_ticket = ticket;
    }
    processed.notify_all();
  }
  sync_file();
}

void audit_writer::impl::process(std::vector<queued>& batch) {
  const auto today = utc_date(file_clock.now());
  std::int64_t dropped_here = 0;
  for (const auto& item : batch) {
    if (item.dropped > 0) {
      put_dropped(item.dropped, "queue_full", today);
      dropped_here += item.dropped;
    } else {
      put_event(item.event, today);
    }
  }
  commit_buffer();
  sync_file();
  if (dropped_here > 0) warn_drops(dropped_here);
}

void audit_writer::impl::put_event(const audit_event& e, const std::string& today) {
  json record = {{"schema", e.schema},
                 {"event", e.type},
                 {"seq", e.seq},
                 {"run_id", e.run_id},
                 {"ts", format_rfc3339_ms(e.ts)}};
  if (e.step_id) record["step_id"] = *e.step_id;
  if (e.name) record["name"] = *e.name;
  auto body = json::parse(e.body_json, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) body = json{{"body", k_redacted}};
  const auto redacted = allow.redact(body);
  for (const auto& [key, value] : redacted.items()) {
    if (record.contains(key) || key == "audit_seq" || key == "prev" || key == "alg" ||
        key == "hash") {
      continue;  // the envelope and the chain have the last word
    }
    record[key] = value;
  }
  // Bounded lines: an oversized body (only possible with large allow-listed fields) is
  // replaced by a note.
  if (record.dump(-1, ' ', false, json::error_handler_t::replace).size() + 256 >
      k_max_audit_line_bytes) {
    for (const auto& [key, value] : redacted.items()) {
      if (key != "schema" && key != "event" && key != "seq" && key != "run_id" && key != "ts" &&
          key != "step_id" && key != "name") {
        record.erase(key);
      }
    }
    record["audit_body"] = "[too large]";
  }
  put(std::move(record), today, -1);
}

void audit_writer::impl::put_dropped(std::int64_t count, std::string_view reason,
                                     const std::string& today) {
  put({{"event", k_event_dropped}, {"ts", now_text()}, {"dropped", count}, {"reason", reason}},
      today, count);
}

void audit_writer::impl::put(json record, const std::string& today, std::int64_t reports) {
  const bool is_event = reports < 0;
  if (failed_events > 0) put_dropped(std::exchange(failed_events, 0), "write_failed", today);
  const auto before = chain;
  auto line = seal_line(record, chain, options.secret);
  const auto size = current_size + static_cast<std::int64_t>(buffer.size());
  // A line too big for any file still gets one of its own, after the header.
  const bool too_big = !need_new_file && file_has_lines &&
                       size + static_cast<std::int64_t>(line.size()) + 1 > options.max_file_bytes;
  if (need_new_file || current.date != today || too_big) {
    chain = before;
    commit_buffer();
    if (auto opened = open_new_file(today); !opened) {
      if (may_log_failure()) spdlog::error("audit: {}", opened.error().message);
      failed_events += is_event ? 1 : reports;
      if (is_event) {
        std::lock_guard lock(mutex);
        ++counts.events_dropped;
        dropped_metric.inc();
      }
      need_new_file = true;
      return;
    }
    // What a failed write just lost is recorded where it was lost.
    if (failed_events > 0) put_dropped(std::exchange(failed_events, 0), "write_failed", today);
    line = seal_line(std::move(record), chain, options.secret);
  }
  buffer += line;
  buffer += '\n';
  ++buffer_lines;
  file_has_lines = true;
  if (is_event) {
    ++buffer_events;
  } else {
    buffer_reported += reports;
  }
}

result<void> audit_writer::impl::open_new_file(const std::string& today) {
  sync_file();
  file.reset();
  audit_file f;
  f.number = next_number;
  f.date = today;
  f.name = audit_file_name(f.number, today);
  f.path = (fs::path(options.dir) / f.name).string();
  const int fd = ::open(f.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return fail(errc::io, "cannot create " + f.path + ": " + errno_text(errno));
  file.reset(fd);
  sync_directory(options.dir);
  ++next_number;
  current = std::move(f);
  current_size = 0;
  need_new_file = false;
  {
    std::lock_guard lock(mutex);
    ++counts.files_started;
  }
  json header = {{"event", k_event_file}, {"file", current.name}, {"ts", now_text()}};
  if (!recovered.empty()) header["recovered"] = std::exchange(recovered, json::array());
  buffer_chain = chain;
  buffer = seal_line(std::move(header), chain, options.secret);
  buffer += '\n';
  buffer_lines = 1;
  buffer_events = 0;
  buffer_reported = 0;
  file_has_lines = false;
  delete_old_files();
  return {};
}

bool audit_writer::impl::commit_buffer() {
  if (buffer.empty()) {
    buffer_chain = chain;
    return true;
  }
  const bool ok = file.get() >= 0 && write_all(file.get(), buffer);
  if (!ok) {
    const int e = errno;
    // Take back a partial write, so that no torn line sits in the middle of the file.
    if (file.get() >= 0 && ::ftruncate(file.get(), static_cast<off_t>(current_size)) != 0) {
      file.reset();  // a torn line may remain: the next start records it
    }
    if (may_log_failure()) {
      spdlog::error("audit: cannot write to {}: {}; {} event(s) lost", current.path, errno_text(e),
                    buffer_events);
    }
    chain = buffer_chain;
    // Reported again, with the events whose lines were lost here.
    failed_events += buffer_events + buffer_reported;
    {
      std::lock_guard lock(mutex);
      counts.events_dropped += buffer_events;
    }
    dropped_metric.inc({}, static_cast<double>(buffer_events));
    need_new_file = true;  // a fresh file (and header) after a failure
  } else {
    current_size += static_cast<std::int64_t>(buffer.size());
    lines_metric.inc({}, static_cast<double>(buffer_lines));
    std::lock_guard lock(mutex);
    counts.lines_written += buffer_lines;
  }
  buffer.clear();
  buffer_lines = 0;
  buffer_events = 0;
  buffer_reported = 0;
  buffer_chain = chain;
  return ok;
}

void audit_writer::impl::sync_file() {
  if (file.get() >= 0 && ::fdatasync(file.get()) != 0 && may_log_failure()) {
    spdlog::error("audit: fdatasync of {} failed: {}", current.path, errno_text(errno));
  }
}

void audit_writer::impl::delete_old_files() {
  auto files = list_audit_files(options.dir);
  if (!files) return;
  const auto keep = static_cast<std::size_t>(std::max(1, options.keep_files));
  for (std::size_t i = 0; i + keep < files->size(); ++i) {
    const auto& f = (*files)[i];
    if (f.path == current.path) continue;
    std::error_code ec;
    if (fs::remove(f.path, ec)) {
      spdlog::info("audit: deleted {} (keeping the newest {} files)", f.name, keep);
      std::lock_guard lock(mutex);
      ++counts.files_deleted;
    } else if (ec) {
      spdlog::error("audit: cannot delete {}: {}", f.path, ec.message());
    }
  }
}

void audit_writer::impl::warn_drops(std::int64_t total) {
  warned_drops += total;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_warning < k_drop_warning_interval) return;
  last_warning = now;
  spdlog::warn(
      "audit: {} event(s) were not written because the audit queue was full; the log "
      "records each gap with an audit.dropped line",
      std::exchange(warned_drops, 0));
}

}  // namespace grok::obs
