// The audit log's line format, shared by the writer (obs/audit_log.h) and the verifier
// (obs/audit_verify.h): field redaction by allow-list, the hash chain, file names.
//
// A line is one JSON object (keys sorted, compact, valid UTF-8) whose last member is its
// hash, written textually after the rest:
//   {"alg":"sha256","audit_seq":7,"event":"step.completed",…,"prev":"<64 hex>","hash":"<64 hex>"}
// The "canonical" text of a line is the line without `,"hash":"…"` (closing brace kept);
// hash = HMAC-SHA256(secret, prev + canonical) when the log is keyed ("alg":"hmac-sha256"),
// SHA-256(prev + canonical) otherwise. `prev` is the hash of the line before, across files;
// the first line of the log has prev k_genesis_hash. Hashing the bytes as written (not a
// re-serialization) makes any byte edit visible, whitespace included.
//
// Thread-safety: pure functions and immutable objects.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/result.h"

namespace grok::obs {

// Event fields written as they are when audit.allow_fields is empty: metadata that says
// what happened, when and at what cost, never what a user, model or tool wrote (input,
// args, output, answer, error.message, outputs, plan, delta).
inline constexpr std::array<std::string_view, 14> k_default_audit_allow_fields{
    "tool",           "attempt", "status", "metrics",       "usage",    "error.code", "retry_in_ms",
    "prompt_version", "replan",  "edited", "result.status", "estimate", "tools",      "options"};

// What a redacted value is replaced with (the key stays, so a reader knows it was there).
inline constexpr std::string_view k_redacted = "[redacted]";

inline constexpr std::string_view k_genesis_hash =
    "0000000000000000000000000000000000000000000000000000000000000000";
inline constexpr std::string_view k_alg_sha256 = "sha256";
inline constexpr std::string_view k_alg_hmac = "hmac-sha256";

// Longest line written; an event whose line would be longer keeps only its envelope and
// says its body was cut. Also what the verifier accepts.
inline constexpr std::size_t k_max_audit_line_bytes = std::size_t{1} << 20;

// Lines the writer adds beside run events.
inline constexpr std::string_view k_event_file = "audit.file";        // first line of a file
inline constexpr std::string_view k_event_dropped = "audit.dropped";  // events not written

// Dotted paths ("tool", "error.code", "result.status"): a path keeps that field and all
// of it; a longer path keeps only that part of an object (and of each object in an array).
class field_allow_list {
 public:
  // Empty: k_default_audit_allow_fields.
  explicit field_allow_list(const std::vector<std::string>& paths);
  // `body` with every value not allowed replaced by k_redacted.
  [[nodiscard]] nlohmann::json redact(const nlohmann::json& body) const;

 private:
  struct node {
    bool whole = false;
    std::map<std::string, node, std::less<>> children;
  };
  static nlohmann::json redact_value(const nlohmann::json& value, const node& rules);
  node root_;
};

// Where the chain stands: the last line's hash and audit_seq.
struct chain_state {
  std::string prev_hash{k_genesis_hash};
  std::int64_t audit_seq = 0;
};

// HMAC-SHA256(secret, prev + canonical) when `secret` is not empty, else SHA-256; hex.
[[nodiscard]] std::string chain_hash(std::string_view secret, std::string_view prev,
                                     std::string_view canonical);

// Sets "audit_seq", "prev" and "alg" on `record` (an object), serializes it, hashes it and
// returns the whole line (without newline); advances `state`.
[[nodiscard]] std::string seal_line(nlohmann::json record, chain_state& state,
                                    std::string_view secret);

struct sealed_line {
  nlohmann::json doc;     // the whole line, parsed
  std::string canonical;  // the hashed text
  std::string hash, prev, alg, event;
  std::int64_t audit_seq = 0;
};

// Parses one line (without its newline). errc::corrupt with "bad JSON: …" or "not an
// audit line: …" when it is not one; does not check the hash.
[[nodiscard]] result<sealed_line> parse_sealed_line(std::string_view raw);

// True when the line's hash matches its content under `secret` (ignored for sha256 lines).
[[nodiscard]] bool hash_matches(const sealed_line& line, std::string_view secret);

// "YYYYMMDD" of `t` in UTC.
[[nodiscard]] std::string utc_date(time_point t);

// audit-NNNNNN-YYYYMMDD.jsonl (the number grows past six digits when it must).
[[nodiscard]] std::string audit_file_name(std::uint64_t number, std::string_view date);

struct audit_file {
  std::string path;
  std::string name;
  std::uint64_t number = 0;
  std::string date;  // YYYYMMDD
};

// The audit files in `dir`, oldest (lowest number) first; other names are ignored.
// errc::not_found when `dir` does not exist; errc::io when it cannot be read.
[[nodiscard]] result<std::vector<audit_file>> list_audit_files(const std::string& dir);

}  // namespace grok::obs
