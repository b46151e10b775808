#include "obs/json_log.h"

#include <array>

#include "core/utf8.h"
#include "obs/log_context.h"

namespace grok::obs {
namespace {

// Hand-written rather than nlohmann::json: it appends straight into spdlog's buffer with
// no allocation per record, which matters when debug logging is on.
template <class Buffer>
void append(Buffer& out, std::string_view s) {
  out.append(s.data(), s.data() + s.size());
}

bool needs_escape(unsigned char c) noexcept {
  return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

template <class Buffer>
void append_escaped(Buffer& out, std::string_view text) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::size_t i = 0;
  while (i < text.size()) {
    // Copy the longest run of plain ASCII in one go.
    std::size_t plain = i;
    while (plain < text.size() && !needs_escape(static_cast<unsigned char>(text[plain]))) ++plain;
    if (plain > i) {
      append(out, text.substr(i, plain - i));
      i = plain;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      char32_t cp = 0;
      const std::size_t n = decode_utf8(text, i, cp);
      if (n == 0) {
        append(out, "\\ufffd");
        ++i;
      } else {
        append(out, text.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        append(out, "\\\"");
        break;
      case '\\':
        append(out, "\\\\");
        break;
      case '\n':
        append(out, "\\n");
        break;
      case '\r':
        append(out, "\\r");
        break;
      case '\t':
        append(out, "\\t");
        break;
      default: {
        const std::array<char, 6> esc{'\\', 'u', '0', '0', k_hex[c >> 4U], k_hex[c & 0xFU]};
        append(out, std::string_view(esc.data(), esc.size()));
      }
    }
    ++i;
  }
}

template <class Buffer>
void append_field(Buffer& out, std::string_view key, std::string_view value) {
  append(out, ",\"");
  append(out, key);
  append(out, "\":\"");
  append_escaped(out, value);
  append(out, "\"");
}

// Writes `v` as exactly `width` decimal digits.
void put_digits(char* at, int width, unsigned v) noexcept {
  for (int k = width - 1; k >= 0; --k) {
    at[k] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

// "YYYY-MM-DDTHH:MM:SS" for a UTC second.
std::string second_text(std::chrono::sys_seconds s) {
  using namespace std::chrono;
  const auto day = floor<days>(s);
  const year_month_day ymd(day);
  const hh_mm_ss hms(s - day);
  std::string out = "0000-00-00T00:00:00";
  const int y = static_cast<int>(ymd.year());
  put_digits(out.data(), 4, static_cast<unsigned>(y < 0 ? 0 : (y > 9999 ? 9999 : y)));
  put_digits(out.data() + 5, 2, static_cast<unsigned>(ymd.month()));
  put_digits(out.data() + 8, 2, static_cast<unsigned>(ymd.day()));
  put_digits(out.data() + 11, 2, static_cast<unsigned>(hms.hours().count()));
  put_digits(out.data() + 14, 2, static_cast<unsigned>(hms.minutes().count()));
  put_digits(out.data() + 17, 2, static_cast<unsigned>(hms.seconds().count()));
  return out;
}

std::string millis_text(std::chrono::milliseconds ms) {
  std::string out = ".000Z";
  put_digits(out.data() + 1, 3, static_cast<unsigned>(ms.count()));
  return out;
}

}  // namespace

std::string format_rfc3339_ms(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto sec = floor<seconds>(ms);
  return second_text(sec) + millis_text(ms - sec);
}

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  append_escaped(out, text);
  out += '"';
  return out;
}

void json_formatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(msg.time);
  const auto sec = floor<seconds>(ms);
  if (sec != cached_second_ || cached_text_.empty()) {
    cached_second_ = sec;
    cached_text_ = second_text(sec);
  }
  append(dest, "{\"ts\":\"");
  append(dest, cached_text_);
  append(dest, millis_text(ms - sec));
  append(dest, "\"");
  const auto level = spdlog::level::to_string_view(msg.level);
  append_field(dest, "level", std::string_view(level.data(), level.size()));
  if (msg.logger_name.size() > 0) {
    append_field(dest, "logger", std::string_view(msg.logger_name.data(), msg.logger_name.size()));
  }
  append_field(dest, "msg", std::string_view(msg.payload.data(), msg.payload.size()));
  const auto& context = current_log_context();
  if (!context.request_id.empty()) append_field(dest, "request_id", context.request_id);
  if (!context.run_id.empty()) append_field(dest, "run_id", context.run_id);
  append(dest, "}\n");
}

std::unique_ptr<spdlog::formatter> json_formatter::clone() const {
  return std::make_unique<json_formatter>();
}

}  // namespace grok::obs
