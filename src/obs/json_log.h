// Structured logs: a spdlog formatter that writes each record as one JSON object on one
// line, for log collectors (SPEC §7):
//   {"ts":"2026-11-25T08:10:00.123Z","level":"info","logger":"grok","msg":"…",
//    "request_id":"req_…","run_id":"run_…"}
// "request_id" and "run_id" come from the logging thread's obs::log_context and are left
// out when empty. Any message bytes give valid JSON: quotes, backslashes and control
// characters are escaped, and bytes that are not well-formed UTF-8 become U+FFFD.
//
// Thread-safety: spdlog calls format() under its sink's lock, and gives each sink its own
// clone(); a formatter is not shared between threads otherwise.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/formatter.h>

namespace grok::obs {

class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  // The "YYYY-MM-DDTHH:MM:SS" of the last record's second: most records share it.
  std::chrono::sys_seconds cached_second_{};
  std::string cached_text_;
};

// RFC 3339 UTC with milliseconds: "2026-11-25T08:10:00.123Z".
[[nodiscard]] std::string format_rfc3339_ms(std::chrono::system_clock::time_point t);

// `text` as a JSON string literal (with the quotes), escaped as the formatter does.
[[nodiscard]] std::string json_quote(std::string_view text);

}  // namespace grok::obs
