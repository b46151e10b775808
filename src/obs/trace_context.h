// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header a
// caller sends to make GROK's work part of its trace, and the trace and span ids GROK
// makes for its own spans.
//
// Ids are kept as lowercase hex text (32 characters for a trace id, 16 for a span id),
// which is how both the header and OTLP/JSON carry them.
//
// Thread-safety: free functions without shared state; the random ids draw from OpenSSL's
// thread-safe generator.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace grok::obs {

// The caller's position in its trace, as a traceparent header carries it.
struct trace_context {
  std::string trace_id;    // 32 lowercase hex, not all zero
  std::string span_id;     // 16 lowercase hex, not all zero: the caller's span
  std::uint8_t flags = 0;  // bit 0: sampled

  [[nodiscard]] bool sampled() const noexcept { return (flags & 1U) != 0; }
  friend bool operator==(const trace_context&, const trace_context&) = default;
};

// Parses a traceparent header value. Returns nothing for anything W3C calls invalid:
// a length other than 55 for version 00; uppercase or other non-hex characters; an
// all-zero trace or span id; version ff. A later version is read by its first four
// fields when the rest starts with '-', as the spec asks. Surrounding spaces and tabs
// (optional whitespace in HTTP) are ignored. Never throws, whatever the input.
[[nodiscard]] std::optional<trace_context> parse_traceparent(std::string_view header) noexcept;

// "00-<trace_id>-<span_id>-<flags>": always version 00.
[[nodiscard]] std::string format_traceparent(const trace_context& context);

// The caller's traceparent among request headers (names compared without case), parsed
// and formatted again. Nothing when there is none, when it is invalid, or when there is
// more than one (W3C: then the caller's context is ignored, never an error).
[[nodiscard]] std::optional<std::string> caller_traceparent(
    const std::vector<std::pair<std::string, std::string>>& headers);

// True for 32 (trace) or 16 (span) lowercase hex characters, not all zero.
[[nodiscard]] bool is_trace_id(std::string_view id) noexcept;
[[nodiscard]] bool is_span_id(std::string_view id) noexcept;

// Fresh random ids (OpenSSL RAND_bytes), never all zero.
[[nodiscard]] std::string random_trace_id();
[[nodiscard]] std::string random_span_id();

// Ids derived from a stable name (the first bytes of its SHA-256), never all zero: the
// same run, step attempt or model call gets the same id in any process, so a run resumed
// after a crash still links its spans.
[[nodiscard]] std::string derived_trace_id(std::string_view name);
[[nodiscard]] std::string derived_span_id(std::string_view name);

}  // namespace grok::obs
