// API key material (SPEC §3): generation, the stored hash, constant-time checks.
//
// A key is "grok_" followed by 64 hex digits of 32 random bytes (RAND_bytes). Only its
// SHA-256 is stored. A plain hash, not a slow password hash, is right here: the key is
// 256 random bits, so there is nothing for a dictionary to guess, and every request must
// be checked fast.
// Thread-safety: all functions may be called from any thread.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace grok {

inline constexpr std::string_view k_api_key_marker = "grok_";
inline constexpr std::size_t k_api_key_prefix_chars = 12;  // "grok_" and 7 hex digits

struct new_api_key {
  std::string key;     // shown once, never stored
  std::string prefix;  // stored, for display
  std::string hash;    // stored
};

// errc::internal when the system's random source fails.
[[nodiscard]] result<new_api_key> generate_api_key();

// The stored form of a key as presented (any text; a wrong shape just never matches).
[[nodiscard]] std::string hash_api_key(std::string_view key);

// True when `a` and `b` are equal, in time that depends only on their lengths.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

// True when `key` looks like a GROK key ("grok_" and 64 lowercase hex digits).
[[nodiscard]] bool well_formed_api_key(std::string_view key) noexcept;

}  // namespace grok
