// The shared rate limiter (SPEC §3): per-key token buckets kept in Redis, so that every API
// process that points at the same Redis enforces one limit per key. Each take() is one
// atomic Lua script (EVALSHA) on a hash {tokens, updated_ms} that refills with the Redis
// server's own clock, so processes with skewed clocks agree; idle keys expire once full.
// The numbers are those of the in-process token_buckets (api/rate_limit.h).
//
// When Redis is unreachable (at start, or later: connection refused, reset, timeout, a
// failed AUTH), take() answers from in-process buckets with the same settings, one warning
// is logged on the transition and health() reports degraded; a background thread retries
// the connection once per retry interval (never per request) and logs once on recovery.
// A connection that breaks while in use (Redis restarted, an idle timeout) is reopened
// once at once before falling back.
//
// Thread-safety: take() and health() may be called from any thread. One hiredis
// connection is shared under a mutex; while degraded, take() never waits on Redis.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "api/rate_limiter.h"
#include "core/clock.h"
#include "core/result.h"

namespace grok::api {

struct redis_limiter_options {
  std::chrono::milliseconds timeout_connect{200};  // TCP connect (and AUTH, SELECT)
  std::chrono::milliseconds timeout_command{100};  // one script round trip
  std::chrono::milliseconds retry_interval{2000};  // between reconnect attempts while down
  std::string key_prefix = "grok:rl:";             // Redis key = prefix + API key id
};

// Where Redis is, from `redis://[:password@|user:password@]host[:port][/db]`.
struct redis_endpoint {
  std::string host;      // a name, an IPv4 address or an IPv6 address (without brackets)
  int port = 6379;       // 1..65535
  std::string user;      // empty: AUTH with the password alone
  std::string password;  // empty: no AUTH. Never logged.
  int db = 0;            // SELECTed when not 0

  // "host:port/db" ("[v6]:port/db"), without credentials: for logs, errors and /readyz.
  [[nodiscard]] std::string describe() const;
};

// Parses a Redis URL strictly (user and password may be percent-encoded). Returns
// errc::invalid_argument with a message that never contains the password for anything
// else: another scheme (rediss:// is refused: no TLS in this build), a user without a
// password, an empty host, a port outside 1..65535, a db that is not a number, a query.
[[nodiscard]] result<redis_endpoint> parse_redis_url(std::string_view url);

// A limiter on the Redis at `redis_url`. Fails only for a bad URL (errc::invalid_argument);
// an unreachable Redis at start gives a limiter that starts degraded. Tries the first
// connection before returning (at most timeout_connect + timeout_command). `c` is the
// fallback buckets' clock and must outlive the limiter; Redis buckets use Redis time.
[[nodiscard]] result<std::unique_ptr<rate_limiter>> make_redis_rate_limiter(
    std::string_view redis_url, rate_limit_config config, const clock& c,
    redis_limiter_options opts = {});

}  // namespace grok::api
