// API keys as the store keeps them (SPEC §3): never the key itself, only its SHA-256, a
// short prefix for people to recognise it by, its scope and its life.
// Thread-safety: plain values.
#pragma once

#include <optional>
#include <string>

#include "core/clock.h"

namespace grok::store {

inline constexpr std::size_t k_max_api_key_name_bytes = 200;

struct api_key_record {
  std::string id;      // key_…
  std::string name;    // what the operator called it
  std::string scope;   // runs | admin
  std::string prefix;  // the key's first characters, for display
  std::string hash;    // hex SHA-256 of the whole key
  time_point created_at;
  std::optional<time_point> last_used_at;
  std::optional<time_point> revoked_at;
};

}  // namespace grok::store
