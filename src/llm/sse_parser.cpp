#include "llm/sse_parser.h"

namespace grok::llm {

result<void> sse_parser::feed(std::string_view bytes, std::vector<sse_event>& out) {
  if (failed_) return fail(errc::invalid_argument, "event stream already failed");
  bytes_seen_ += bytes.size();
  std::size_t start = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c != '\n' && c != '\r') continue;
    if (c == '\n' && last_was_cr_ && line_.empty() && i == start) {
      // The LF of a CRLF whose CR ended the previous chunk.
      last_was_cr_ = false;
      start = i + 1;
      continue;
    }
    line_.append(bytes.substr(start, i - start));
    process_line(line_, out);
    line_.clear();
    last_was_cr_ = c == '\r';
    if (last_was_cr_ && i + 1 < bytes.size() && bytes[i + 1] == '\n') {
      ++i;  // CRLF inside this chunk
      last_was_cr_ = false;
    }
    start = i + 1;
  }
  if (start < bytes.size()) {
    last_was_cr_ = false;
    line_.append(bytes.substr(start));
  }
  if (line_.size() > limits_.max_line_bytes) {
    failed_ = true;
    return fail(errc::invalid_argument, "event stream line longer than " +
                                            std::to_string(limits_.max_line_bytes) + " bytes");
  }
  if (pending_.data.size() > limits_.max_event_bytes) {
    failed_ = true;
    return fail(errc::invalid_argument, "event stream event larger than " +
                                            std::to_string(limits_.max_event_bytes) + " bytes");
  }
  return {};
}

void sse_parser::finish(std::vector<sse_event>& out) {
  if (failed_) return;
  if (!line_.empty()) {
    process_line(line_, out);
    line_.clear();
  }
  dispatch(out);
}

void sse_parser::process_line(std::string_view line, std::vector<sse_event>& out) {
  if (line.empty()) {
    dispatch(out);
    return;
  }
  if (line.front() == ':') return;  // comment / keep-alive
  std::string_view field = line;
  std::string_view value;
  if (auto colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) pending_.data.push_back('\n');
    pending_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    pending_.event = std::string(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_ = std::string(value);
  }
  // "retry" and unknown fields are ignored.
}

void sse_parser::dispatch(std::vector<sse_event>& out) {
  if (has_data_) {
    pending_.id = last_id_;
    out.push_back(std::move(pending_));
  }
  pending_ = {};
  has_data_ = false;
}

}  // namespace grok::llm
