#include "core/ids.h"

#include <array>
#include <cstdint>
#include <mutex>
#include <random>

namespace grok {
namespace {

constexpr std::string_view k_alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

struct ulid_state {
  std::mutex mutex;  // guards everything below
  std::int64_t last_ms = -1;
  std::array<std::uint8_t, 10> last_random{};
  std::mt19937_64 rng{std::random_device{}()};
};

ulid_state& state() {
  static ulid_state s;
  return s;
}

}  // namespace

std::string new_id(std::string_view prefix, time_point now) {
  std::array<std::uint8_t, 16> bytes{};
  auto ms = to_unix_ms(now);
  {
    auto& s = state();
    std::lock_guard lock(s.mutex);
    if (ms <= s.last_ms) {
      // Same (or earlier, if the wall clock stepped back) millisecond: keep the previous
      // timestamp and increment the random part so ids stay strictly increasing.
      ms = s.last_ms;
      for (auto i = s.last_random.size(); i-- > 0;) {
        if (++s.last_random[i] != 0) break;
      }
    } else {
      s.last_ms = ms;
      for (std::size_t i = 0; i < s.last_random.size(); i += 8) {
        auto r = s.rng();
        for (std::size_t j = 0; j < 8 && i + j < s.last_random.size(); ++j) {
          s.last_random[i + j] = static_cast<std::uint8_t>(r >> (8 * j));
        }
      }
    }
    for (int i = 0; i < 6; ++i) {
      bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms >> (8 * (5 - i)));
    }
    std::copy(s.last_random.begin(), s.last_random.end(), bytes.begin() + 6);
  }

  // 128 bits -> 26 base32 characters, most significant first (the first holds 3 bits).
  std::string out;
  out.reserve(prefix.size() + 27);
  out.append(prefix);
  out.push_back('_');
  // The 128 bits are read as 130 with two leading zero bits, five at a time.
  auto bit_at = [&bytes](int pos) -> unsigned {  // pos counts from the leading zero bits
    if (pos < 2) return 0;
    auto p = static_cast<std::size_t>(pos - 2);
    return (bytes[p / 8] >> (7 - p % 8)) & 1U;
  };
  std::array<char, 26> chars{};
  for (int i = 0; i < 26; ++i) {
    unsigned v = 0;
    for (int b = 0; b < 5; ++b) v = (v << 1) | bit_at(i * 5 + b);
    chars[static_cast<std::size_t>(i)] = k_alphabet[v];
  }
  out.append(chars.data(), chars.size());
  return out;
}

bool is_valid_id(std::string_view id, std::string_view prefix) noexcept {
  if (id.size() != prefix.size() + 27 || id.substr(0, prefix.size()) != prefix ||
      id[prefix.size()] != '_') {
    return false;
  }
  auto body = id.substr(prefix.size() + 1);
  if (body[0] > '7') return false;  // the first character holds only 3 bits
  for (char c : body) {
    if (k_alphabet.find(c) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace grok
