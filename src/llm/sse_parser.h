// An incremental parser for `text/event-stream` (the Server-Sent Events wire format), as
// OpenAI-compatible servers use it to stream chat completions.
//
// Bytes may arrive split at any point, including inside a CRLF pair or a UTF-8 sequence.
// Lines end with LF, CR or CRLF. `:` lines are comments (keep-alives) and are dropped.
// `data:` with or without one following space; several data lines of one event are joined
// with "\n"; an empty line ends an event. `event:`, `id:` and `retry:` fields are kept or
// ignored as the SSE specification says; unknown fields are ignored.
//
// Limits: a line longer than `max_line_bytes` or an event larger than `max_event_bytes`
// is an error (the stream is then unusable), so a hostile server cannot grow memory
// without bound. Thread-safety: one parser per stream, used by one thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace grok::llm {

struct sse_event {
  std::string event;  // the `event:` field; empty means "message"
  std::string data;
  std::string id;
};

struct sse_limits {
  std::size_t max_line_bytes = 4 * 1024 * 1024;
  std::size_t max_event_bytes = 8 * 1024 * 1024;
};

class sse_parser {
 public:
  explicit sse_parser(sse_limits limits = {}) : limits_(limits) {}

  // Consumes `bytes` and appends every event completed by them to `out`.
  // errc::invalid_argument once a limit is exceeded; the parser stays failed after that.
  [[nodiscard]] result<void> feed(std::string_view bytes, std::vector<sse_event>& out);

  // At end of stream: dispatches a pending event even though its closing blank line never
  // came (some servers omit it), appending it to `out`.
  void finish(std::vector<sse_event>& out);

  // Bytes consumed so far.
  [[nodiscard]] std::size_t bytes_seen() const noexcept { return bytes_seen_; }

 private:
  void process_line(std::string_view line, std::vector<sse_event>& out);
  void dispatch(std::vector<sse_event>& out);

  sse_limits limits_;
  std::string line_;          // the line being assembled
  bool last_was_cr_ = false;  // a CR ended the previous line: skip a following LF
  bool failed_ = false;
  bool has_data_ = false;
  sse_event pending_;
  std::string last_id_;
  std::size_t bytes_seen_ = 0;
};

}  // namespace grok::llm
