// Optional HMAC request signing (SPEC §3): X-Grok-Signature is the hex HMAC-SHA256, keyed
// with the signing secret, of "<X-Grok-Timestamp>\n<METHOD>\n<path with query>\n<raw body>";
// the timestamp is Unix seconds and must be within five minutes of the server's clock.
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace grok::api {

inline constexpr std::chrono::seconds k_signature_window{300};

struct signed_request {
  std::string_view timestamp;  // X-Grok-Timestamp as sent
  std::string_view signature;  // X-Grok-Signature as sent
  std::string_view method;
  std::string_view target;  // path with query, as sent
  std::string_view body;
};

// The lowercase hex signature of a request (what a client computes).
[[nodiscard]] std::string sign_request(std::string_view secret, std::string_view timestamp,
                                       std::string_view method, std::string_view target,
                                       std::string_view body);

// Checks a request's signature. errc::unauthenticated with a reason a client can act on:
// a missing header, a timestamp that is not Unix seconds, one outside the window (either
// way), or a signature that does not match (compared in constant time).
[[nodiscard]] result<void> verify_request(std::string_view secret, const signed_request& r,
                                          time_point now);

}  // namespace grok::api
