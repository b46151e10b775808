#include "obs/audit_verify.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/sha256.h"
#include "obs/audit_format.h"

namespace grok::obs {

using json = nlohmann::json;

namespace {

constexpr std::size_t k_read_chunk = 64 * 1024;

// One line as read: where it is and whether a newline ended it.
struct raw_line {
  std::size_t file_index = 0;
  std::int64_t number = 0;  // 1-based, in its file
  std::int64_t offset = 0;  // of its first byte, in its file
  std::string text;
  bool newline = false;
  bool too_long = false;
};

// The lines of every file in order, with one line of lookahead.
class line_source {
 public:
  explicit line_source(const std::vector<audit_file>& files) : files_(files) {}
  line_source(const line_source&) = delete;
  line_source& operator=(const line_source&) = delete;
  ~line_source() { close_file(); }

  result<std::optional<raw_line>> next() {
    if (peeked_) {
      auto out = std::move(*peeked_);
      peeked_.reset();
      return out;
    }
    return read();
  }
  result<std::optional<raw_line>> peek() {
    if (!peeked_) {
      auto r = read();
      if (!r) return r;
      peeked_ = std::move(*r);
    }
    return *peeked_;
  }
  // Files that held no bytes at all.
  [[nodiscard]] const std::vector<std::size_t>& empty_files() const { return empty_; }

 private:
  void close_file() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  result<std::optional<raw_line>> read() {
    for (;;) {
      if (fd_ < 0) {
        if (next_file_ >= files_.size()) return std::optional<raw_line>();
        file_ = next_file_++;
        fd_ = ::open(files_[file_].path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) {
          return fail(errc::io, "cannot open " + files_[file_].path + ": " + std::strerror(errno));
        }
        buf_.clear();
        pos_ = 0;
        eof_ = false;
        number_ = 0;
        offset_ = 0;
        any_bytes_ = false;
      }
      const auto newline = buf_.find('\n', pos_);
      if (newline != std::string::npos || (eof_ && pos_ < buf_.size())) {
        raw_line out;
        out.file_index = file_;
        out.number = ++number_;
        out.offset = offset_;
        const auto end = newline == std::string::npos ? buf_.size() : newline;
        out.text = buf_.substr(pos_, end - pos_);
        out.newline = newline != std::string::npos;
        out.too_long = too_long_;
        too_long_ = false;
        const auto consumed = end - pos_ + (out.newline ? 1 : 0);
        offset_ += static_cast<std::int64_t>(consumed) + skipped_;
        skipped_ = 0;
        pos_ += consumed;
        return std::optional<raw_line>(std::move(out));
      }
      if (eof_) {
        if (!any_bytes_) empty_.push_back(file_);
        close_file();
        continue;
      }
      buf_.erase(0, pos_);
      pos_ = 0;
      if (buf_.size() > k_max_audit_line_bytes + 1) {
        // Longer than any line the writer makes: keep its start, count the rest.
        too_long_ = true;
        skipped_ += static_cast<std::int64_t>(buf_.size());
        buf_.clear();
      }
      const auto old = buf_.size();
      buf_.resize(old + k_read_chunk);
      ssize_t n = 0;
      do {
        n = ::read(fd_, buf_.data() + old, k_read_chunk);
      } while (n < 0 && errno == EINTR);
      if (n < 0) {
        return fail(errc::io, "cannot read " + files_[file_].path + ": " + std::strerror(errno));
      }
      buf_.resize(old + static_cast<std::size_t>(n));
      if (n == 0) eof_ = true;
      if (n > 0) any_bytes_ = true;
    }
  }

  const std::vector<audit_file>& files_;
  std::size_t next_file_ = 0;
  std::size_t file_ = 0;
  int fd_ = -1;
  std::string buf_;
  std::size_t pos_ = 0;
  bool eof_ = false;
  bool any_bytes_ = false;
  bool too_long_ = false;
  std::int64_t skipped_ = 0;
  std::int64_t number_ = 0;
  std::int64_t offset_ = 0;
  std::optional<std::optional<raw_line>> peeked_;
  std::vector<std::size_t> empty_;
};

// A torn line seen at the end of a file, waiting for the header that records it.
struct torn_line {
  std::string file;
  std::int64_t line = 0;
  json record;  // {"file", "offset", "bytes", "sha256"}, as the writer records it
};

bool is_run_event(const sealed_line& l) { return !l.event.starts_with("audit."); }

std::string text_or_empty(const json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

class verifier {
 public:
  verifier(std::vector<audit_file> files, std::string_view secret)
      : files_(std::move(files)), secret_(secret), source_(files_) {}

  result<audit_verify_report> run();

 private:
  // Stops the walk at the current line.
  void flag(const raw_line& at, std::string reason) {
    report_.problem = audit_problem{files_[at.file_index].name, at.number, std::move(reason)};
  }
  std::optional<sealed_line> peek_sealed();
  // Checks one parsed line; false when it flagged a problem. errc::invalid_argument for a
  // keyed line without a secret.
  result<bool> check(const raw_line& at, const sealed_line& line);
  bool check_header(const raw_line& at, const sealed_line& line);
  bool check_order(const raw_line& at, const sealed_line& line);
  std::string where(const raw_line& at) const {
    return files_[at.file_index].name + ":" + std::to_string(at.number);
  }

  std::vector<audit_file> files_;
  std::string_view secret_;
  line_source source_;
  audit_verify_report report_;
  std::optional<sealed_line> last_;  // the last good line
  raw_line last_at_;
  std::optional<std::size_t> last_file_;  // the file of the last good line
  bool keyed_seen_ = false;
  std::vector<torn_line> torn_;
};

std::optional<sealed_line> verifier::peek_sealed() {
  auto next = source_.peek();
  if (!next || !*next) return std::nullopt;
  auto parsed = parse_sealed_line((**next).text);
  if (!parsed) return std::nullopt;
  return std::move(*parsed);
}

result<audit_verify_report> verifier::run() {
  for (const auto& f : files_) report_.files.push_back(f.name);
  for (;;) {
    auto next = source_.next();
    if (!next) return tl::unexpected(next.error());
    if (!*next) break;
    const raw_line& at = **next;
    if (at.too_long) {
      flag(at, "bad line: longer than any audit line");
      return report_;
    }
    auto parsed = parse_sealed_line(at.text);
    if (!at.newline && !parsed) {
      // The last bytes of a file, cut short.
      if (at.file_index + 1 == files_.size()) {
        flag(at, "truncated: the last line is incomplete (" + std::to_string(at.text.size()) +
                     " bytes without a newline): cut, or a crash while writing");
        return report_;
      }
      torn_.push_back({files_[at.file_index].name, at.number,
                       json{{"file", files_[at.file_index].name},
                            {"offset", at.offset},
                            {"bytes", at.text.size()},
                            {"sha256", sha256_hex(at.text)}}});
      continue;
    }
    if (!parsed) {
      flag(at, parsed.error().message);
      return report_;
    }
    auto ok = check(at, *parsed);
    if (!ok) return tl::unexpected(ok.error());
    if (!*ok) return report_;
    if (report_.lines == 0) report_.first_audit_seq = parsed->audit_seq;
    ++report_.lines;
    report_.last_audit_seq = parsed->audit_seq;
    if (is_run_event(*parsed)) {
      ++report_.events;
      if (report_.first_ts.empty()) report_.first_ts = text_or_empty(parsed->doc, "ts");
      report_.last_ts = text_or_empty(parsed->doc, "ts");
    }
    if (parsed->event == k_event_dropped) {
      const auto n = parsed->doc.value("dropped", std::int64_t{0});
      report_.events_dropped += n;
      report_.notes.push_back(where(at) + ": the writer recorded " + std::to_string(n) +
                              " event(s) it could not write (" +
                              text_or_empty(parsed->doc, "reason") + ")");
    }
    last_ = std::move(*parsed);
    last_at_ = at;
    last_file_ = at.file_index;
  }
  if (!torn_.empty()) {
    const auto& t = torn_.front();
    report_.problem = audit_problem{t.file, t.line,
                                    "truncated: the file ends in an incomplete line that no "
                                    "later file records as torn"};
    return report_;
  }
  for (auto i : source_.empty_files()) {
    report_.notes.push_back(files_[i].name + " is empty (a crash before its first line)");
  }
  return report_;
}

result<bool> verifier::check(const raw_line& at, const sealed_line& line) {
  if (line.alg == k_alg_hmac) {
    if (secret_.empty()) {
      return fail(errc::invalid_argument,
                  "the audit log is keyed (HMAC-SHA256): give its secret (GROK_AUDIT_SECRET or "
                  "audit.secret_file) to verify it");
    }
    keyed_seen_ = true;
    ++report_.keyed_lines;
  } else {
    if (!secret_.empty() && keyed_seen_) {
      flag(at, "downgraded: a line hashed without the key after keyed lines (rewritten)");
      return false;
    }
    ++report_.unkeyed_lines;
  }
  if (!hash_matches(line, secret_)) {
    auto next = peek_sealed();
    if (next && !hash_matches(*next, secret_)) {
      flag(at,
           "hash does not match: the secret is wrong, or this line and the ones after it "
           "were rewritten");
    } else {
      flag(at, "edited: the line's hash does not match its content");
    }
    return false;
  }
  if (!check_header(at, line)) return false;
  return check_order(at, line);
}

bool verifier::check_header(const raw_line& at, const sealed_line& line) {
  const auto& name = files_[at.file_index].name;
  const bool first_in_file = last_file_ != at.file_index;
  if (!first_in_file) {
    if (line.event == k_event_file) {
      flag(at, "reordered: a file's header line in the middle of " + name);
      return false;
    }
    return true;
  }
  if (line.event != k_event_file || text_or_empty(line.doc, "file") != name) {
    flag(at, "removed: " + name +
                 " does not begin with its own header line (lines were removed from its start, "
                 "or the file was renamed)");
    return false;
  }
  // The torn lines before this file must be exactly the ones its header records.
  json expected = json::array();
  for (const auto& t : torn_) expected.push_back(t.record);
  json recorded = json::array();
  if (auto it = line.doc.find("recovered"); it != line.doc.end() && it->is_array()) {
    for (const auto& r : *it) {
      // Torn lines in files rotation has since deleted cannot be compared.
      const auto file = text_or_empty(r, "file");
      for (const auto& f : files_) {
        if (f.name == file) {
          recorded.push_back(r);
          break;
        }
      }
    }
  }
  if (expected != recorded) {
    if (!torn_.empty()) {
      report_.problem = audit_problem{torn_.front().file, torn_.front().line,
                                      "truncated: an incomplete line that the next file's header "
                                      "does not record as torn"};
    } else {
      flag(at, "edited: the header records a torn line that is not there");
    }
    return false;
  }
  for (const auto& t : torn_) {
    report_.notes.push_back(t.file + ":" + std::to_string(t.line) +
                            ": a torn line (a crash while writing), recorded by " + name);
  }
  torn_.clear();
  return true;
}

bool verifier::check_order(const raw_line& at, const sealed_line& line) {
  if (!last_) {
    if (line.prev == k_genesis_hash) {
      if (line.audit_seq != 1) {
        flag(at, "removed: the log's first line has audit_seq " + std::to_string(line.audit_seq) +
                     ", not 1");
        return false;
      }
    } else {
      report_.starts_after_rotation = true;
      report_.notes.push_back("the log starts at " + files_[at.file_index].name + " (audit_seq " +
                              std::to_string(line.audit_seq) +
                              "): older files were deleted by rotation");
    }
    return true;
  }
  const auto expected = last_->audit_seq + 1;
  if (line.audit_seq != expected) {
    if (line.audit_seq > expected) {
      auto next = peek_sealed();
      if (next && next->audit_seq == expected) {
        flag(at, "reordered: audit_seq " + std::to_string(line.audit_seq) + " comes before " +
                     std::to_string(expected));
        return false;
      }
      std::string why = "removed: audit_seq jumps from " + std::to_string(last_->audit_seq) +
                        " to " + std::to_string(line.audit_seq) + " (" +
                        std::to_string(line.audit_seq - expected) + " line(s) missing";
      const auto& prev_file = files_[*last_file_];
      const auto& this_file = files_[at.file_index];
      if (this_file.number > prev_file.number + 1) {
        why += "; file numbers jump from " + std::to_string(prev_file.number) + " to " +
               std::to_string(this_file.number) + ": a file was deleted";
      }
      flag(at, why + ")");
      return false;
    }
    flag(at, "reordered: audit_seq " + std::to_string(line.audit_seq) + " after " +
                 std::to_string(last_->audit_seq) + " (a line was moved or copied)");
    return false;
  }
  if (line.prev != last_->hash) {
    flag(at, "chain broken: prev is not the hash of the line before (" + where(last_at_) +
                 " was changed and re-hashed, or this line was)");
    return false;
  }
  return true;
}

}  // namespace

result<audit_verify_report> verify_audit_log(const std::string& dir, std::string_view secret) {
  auto files = list_audit_files(dir);
  if (!files) return tl::unexpected(files.error());
  if (files->empty()) {
    return fail(errc::not_found, "no audit files (audit-NNNNNN-YYYYMMDD.jsonl) in " + dir);
  }
  verifier v(std::move(*files), secret);
  return v.run();
}

}  // namespace grok::obs
