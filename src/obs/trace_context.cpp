#include "obs/trace_context.h"

#include <openssl/rand.h>

#include <array>
#include <random>

#include "core/sha256.h"

namespace grok::obs {
namespace {

constexpr std::size_t k_trace_id_chars = 32;
constexpr std::size_t k_span_id_chars = 16;
// "00-" + 32 + "-" + 16 + "-" + 2
constexpr std::size_t k_v00_length = 55;
constexpr char k_hex[] = "0123456789abcdef";

bool is_lower_hex(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool is_lower_hex(std::string_view s) noexcept {
  for (char c : s) {
    if (!is_lower_hex(c)) return false;
  }
  return true;
}

bool all_zero(std::string_view s) noexcept { return s.find_first_not_of('0') == s.npos; }

int hex_value(char c) noexcept { return c <= '9' ? c - '0' : c - 'a' + 10; }

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string to_hex(const unsigned char* bytes, std::size_t n) {
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(k_hex[bytes[i] >> 4]);
    out.push_back(k_hex[bytes[i] & 15]);
  }
  return out;
}

std::string random_hex(std::size_t bytes) {
  std::array<unsigned char, 16> buf{};
  for (;;) {
    if (RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1) {
      // OpenSSL's generator failing is next to impossible; an id only has to be unique,
      // not secret, so the OS's random device will do.
      std::random_device rd;
      for (std::size_t i = 0; i < bytes; ++i) buf[i] = static_cast<unsigned char>(rd());
    }
    auto hex = to_hex(buf.data(), bytes);
    if (!all_zero(hex)) return hex;
  }
}

std::string derived_hex(std::string_view name, std::size_t chars) {
  auto hex = sha256_hex(name).substr(0, chars);
  if (all_zero(hex)) hex.back() = '1';  // an all-zero id is invalid
  return hex;
}

}  // namespace

bool is_trace_id(std::string_view id) noexcept {
  return id.size() == k_trace_id_chars && is_lower_hex(id) && !all_zero(id);
}

bool is_span_id(std::string_view id) noexcept {
  return id.size() == k_span_id_chars && is_lower_hex(id) && !all_zero(id);
}

std::optional<trace_context> parse_traceparent(std::string_view header) noexcept {
  const auto value = trim_ows(header);
  if (value.size() < k_v00_length) return std::nullopt;
  const auto version = value.substr(0, 2);
  if (!is_lower_hex(version) || version == "ff") return std::nullopt;
  if (version == "00") {
    if (value.size() != k_v00_length) return std::nullopt;
  } else if (value.size() > k_v00_length && value[k_v00_length] != '-') {
    // A later version may append fields, each after a '-'.
    return std::nullopt;
  }
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
  const auto trace_id = value.substr(3, k_trace_id_chars);
  const auto span_id = value.substr(36, k_span_id_chars);
  const auto flags = value.substr(53, 2);
  if (!is_trace_id(trace_id) || !is_span_id(span_id) || !is_lower_hex(flags)) {
    return std::nullopt;
  }
  trace_context out;
  out.trace_id = std::string(trace_id);
  out.span_id = std::string(span_id);
  out.flags = static_cast<std::uint8_t>(hex_value(flags[0]) * 16 + hex_value(flags[1]));
  return out;
}

std::string format_traceparent(const trace_context& context) {
  std::string out = "00-" + context.trace_id + "-" + context.span_id + "-";
  out.push_back(k_hex[context.flags >> 4]);
  out.push_back(k_hex[context.flags & 15]);
  return out;
}

std::optional<std::string> caller_traceparent(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  const std::string* found = nullptr;
  for (const auto& [name, value] : headers) {
    if (!iequals(name, "traceparent")) continue;
    if (found != nullptr) return std::nullopt;  // more than one: ignore them all
    found = &value;
  }
  if (found == nullptr) return std::nullopt;
  auto parsed = parse_traceparent(*found);
  if (!parsed) return std::nullopt;
  return format_traceparent(*parsed);
}

std::string random_trace_id() { return random_hex(k_trace_id_chars / 2); }
std::string random_span_id() { return random_hex(k_span_id_chars / 2); }

std::string derived_trace_id(std::string_view name) { return derived_hex(name, k_trace_id_chars); }
std::string derived_span_id(std::string_view name) { return derived_hex(name, k_span_id_chars); }

}  // namespace grok::obs
