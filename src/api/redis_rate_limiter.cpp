#include "api/redis_rate_limiter.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>
#include <utility>

namespace grok::api {
namespace {

// The token bucket of token_buckets::take(), step for step, on a hash {tokens, updated_ms}
// and the server's clock (milliseconds, like grok::clock). Tokens are stored with 17
// significant digits so a round trip through the hash loses nothing. The key expires a
// little after the bucket would be full again (an absent key is a full bucket), or after a
// week idle for absurdly slow refills, which like token_buckets' eviction errs to allowing.
// KEYS[1] the bucket; ARGV[1] tokens per second; ARGV[2] burst.
// Returns {allowed (0|1), whole tokens left, retry_after ms, reset ms}.
constexpr std::string_view k_script = R"lua(
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated_ms')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = burst
  updated = now
end
local elapsed = math.max(0, (now - updated) / 1000)
tokens = math.min(burst, tokens + elapsed * rate)
updated = math.max(updated, now)
local allowed = 0
local retry_after = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry_after = math.ceil((1 - tokens) / rate * 1000)
end
local reset = math.ceil((burst - tokens) / rate * 1000)
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'updated_ms',
           string.format('%d', updated))
redis.call('PEXPIRE', KEYS[1], math.min(reset + 1000, 604800000))
return {allowed, math.floor(tokens), retry_after, reset}
)lua";

struct context_deleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using context_ptr = std::unique_ptr<redisContext, context_deleter>;

struct reply_deleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

// hiredis writes with write(2): a peer that has gone away would raise SIGPIPE and kill
// the process. Blocks SIGPIPE in this thread for the scope and swallows one raised inside
// it (the way libpq does it), leaving any that was already pending alone.
class sigpipe_guard {
 public:
  sigpipe_guard() {
    sigemptyset(&pipe_only_);
    sigaddset(&pipe_only_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only_, &old_mask_);
    if (sigismember(&old_mask_, SIGPIPE) == 1) {
      sigset_t pending;
      sigpending(&pending);
      was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    }
  }
  ~sigpipe_guard() {
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        while (sigtimedwait(&pipe_only_, nullptr, &zero) < 0 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  sigpipe_guard(const sigpipe_guard&) = delete;
  sigpipe_guard& operator=(const sigpipe_guard&) = delete;

 private:
  sigset_t pipe_only_{};
  sigset_t old_mask_{};
  bool was_pending_ = false;
};

timeval to_timeval(std::chrono::milliseconds d) {
  const auto ms = std::max<std::int64_t>(d.count(), 1);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

// One command; null when the connection failed (ctx->err says why; `io_errno` is errno
// right after the call, to tell a timeout from a broken connection).
reply_ptr run_command(redisContext* ctx, std::initializer_list<std::string_view> args,
                      int& io_errno) {
  constexpr std::size_t k_max_args = 8;
  std::array<const char*, k_max_args> argv{};
  std::array<std::size_t, k_max_args> lengths{};
  std::size_t n = 0;
  for (auto a : args) {
    if (n == k_max_args) break;
    argv[n] = a.data();
    lengths[n] = a.size();
    ++n;
  }
  errno = 0;
  auto* raw = redisCommandArgv(ctx, static_cast<int>(n), argv.data(), lengths.data());
  io_errno = errno;
  return reply_ptr(static_cast<redisReply*>(raw));
}

bool is_timeout(const redisContext* ctx, int io_errno) {
  return ctx->err == REDIS_ERR_IO && (io_errno == EAGAIN || io_errno == EWOULDBLOCK);
}

// Why a command returned no reply. A timeout is not retryable at once (the server is slow
// or unreachable: waiting again would only pile up requests); a closed connection is.
error connection_error(const redisContext* ctx, int io_errno, std::chrono::milliseconds timeout) {
  if (is_timeout(ctx, io_errno)) {
    return error{errc::timeout, "no answer within " + std::to_string(timeout.count()) + " ms",
                 false};
  }
  return error{errc::unavailable, ctx->errstr, true};
}

std::string reply_text(const redisReply& r) { return std::string(r.str, r.len); }

struct connection {
  context_ptr ctx;
  std::string script_sha;
};

// Connects, authenticates, selects the database and loads the script. Every step is
// bounded by timeout_connect. Messages never contain the password.
result<connection> open_connection(const redis_endpoint& endpoint,
                                   const redis_limiter_options& opts) {
  sigpipe_guard guard;
  context_ptr ctx(redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port,
                                          to_timeval(opts.timeout_connect)));
  if (!ctx) return fail(errc::internal, "out of memory");
  if (ctx->err != 0) return fail(errc::unavailable, ctx->errstr, true);
  if (redisSetTimeout(ctx.get(), to_timeval(opts.timeout_connect)) != REDIS_OK) {
    return fail(errc::io, "could not set the socket timeout");
  }
  int io_errno = 0;
  if (!endpoint.password.empty()) {
    auto reply = endpoint.user.empty()
                     ? run_command(ctx.get(), {"AUTH", endpoint.password}, io_errno)
                     : run_command(ctx.get(), {"AUTH", endpoint.user, endpoint.password}, io_errno);
    if (!reply) return tl::unexpected(connection_error(ctx.get(), io_errno, opts.timeout_connect));
    if (reply->type == REDIS_REPLY_ERROR) {
      return fail(errc::unauthenticated, "authentication failed: " + reply_text(*reply));
    }
  }
  if (endpoint.db != 0) {
    auto reply = run_command(ctx.get(), {"SELECT", std::to_string(endpoint.db)}, io_errno);
    if (!reply) return tl::unexpected(connection_error(ctx.get(), io_errno, opts.timeout_connect));
    if (reply->type == REDIS_REPLY_ERROR) {
      return fail(errc::invalid_argument,
                  "SELECT " + std::to_string(endpoint.db) + " failed: " + reply_text(*reply));
    }
  }
  auto reply = run_command(ctx.get(), {"SCRIPT", "LOAD", k_script}, io_errno);
  if (!reply) return tl::unexpected(connection_error(ctx.get(), io_errno, opts.timeout_connect));
  if (reply->type != REDIS_REPLY_STRING) {
    const bool is_error = reply->type == REDIS_REPLY_ERROR;
    return fail(is_error && reply_text(*reply).starts_with("NOAUTH") ? errc::unauthenticated
                                                                     : errc::unavailable,
                "SCRIPT LOAD failed: " + (is_error ? reply_text(*reply) : "unexpected reply"));
  }
  connection c{std::move(ctx), reply_text(*reply)};
  if (redisSetTimeout(c.ctx.get(), to_timeval(opts.timeout_command)) != REDIS_OK) {
    return fail(errc::io, "could not set the socket timeout");
  }
  return c;
}

result<rate_decision> decode_decision(const redisReply& r) {
  if (r.type != REDIS_REPLY_ARRAY || r.elements != 4) {
    return fail(errc::internal, "the rate limit script returned an unexpected reply");
  }
  std::array<long long, 4> v{};
  for (std::size_t i = 0; i < 4; ++i) {
    if (r.element[i]->type != REDIS_REPLY_INTEGER) {
      return fail(errc::internal, "the rate limit script returned an unexpected reply");
    }
    v[i] = r.element[i]->integer;
  }
  rate_decision d;
  d.allowed = v[0] == 1;
  d.remaining = static_cast<double>(v[1]);
  d.retry_after = std::chrono::milliseconds(v[2]);
  d.reset = std::chrono::milliseconds(v[3]);
  return d;
}

// The shortest text that reads back as the same double (Lua's tonumber is exact).
std::string number_text(double x) {
  std::array<char, 64> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), x);
  return ec == std::errc() ? std::string(buf.data(), end) : std::to_string(x);
}

class redis_rate_limiter final : public rate_limiter {
 public:
  redis_rate_limiter(redis_endpoint endpoint, rate_limit_config config, const clock& c,
                     redis_limiter_options opts)
      : endpoint_(std::move(endpoint)),
        opts_(std::move(opts)),
        per_second_arg_(number_text(std::max(config.per_second, 1e-6))),
        burst_arg_(number_text(std::max(config.burst, 1.0))),
        fallback_(config, c) {
    {
      std::lock_guard lock(conn_mutex_);
      auto opened = open_connection(endpoint_, opts_);
      if (opened) {
        install(std::move(*opened));
        std::lock_guard state(state_mutex_);
        detail_ = shared_detail();
      } else {
        mark_down(opened.error().message);
      }
    }
    reconnector_ = std::jthread([this](const std::stop_token& stop) { reconnect_loop(stop); });
  }

  rate_decision take(std::string_view key) override {
    if (!down_.load(std::memory_order_acquire)) {
      const std::string bucket = opts_.key_prefix + std::string(key);
      sigpipe_guard guard;
      std::lock_guard lock(conn_mutex_);
      if (conn_) {
        auto decided = run_script(bucket);
        if (!decided && decided.error().retryable) {
          // The connection broke while idle (Redis restarted, an idle timeout on the
          // server): reopen it once now rather than fall back for a retry interval.
          conn_.reset();
          auto reopened = open_connection(endpoint_, opts_);
          if (reopened) {
            install(std::move(*reopened));
            decided = run_script(bucket);
          } else {
            decided = tl::unexpected(reopened.error());
          }
        }
        if (decided) return *decided;
        conn_.reset();
        mark_down(decided.error().message);
      }
    }
    return fallback_.take(key);
  }

  limiter_health health() const override {
    std::lock_guard lock(state_mutex_);
    return {"redis", degraded_, detail_};
  }

 private:
  // conn_mutex_ held.
  void install(connection c) {
    conn_ = std::move(c.ctx);
    script_sha_ = std::move(c.script_sha);
  }

  // conn_mutex_ held, conn_ usable.
  result<rate_decision> run_script(const std::string& bucket) {
    int io_errno = 0;
    auto reply = run_command(
        conn_.get(), {"EVALSHA", script_sha_, "1", bucket, per_second_arg_, burst_arg_}, io_errno);
    if (reply && reply->type == REDIS_REPLY_ERROR && reply_text(*reply).starts_with("NOSCRIPT")) {
      // The script cache was flushed (SCRIPT FLUSH, a failover): EVAL caches it again.
      reply = run_command(conn_.get(), {"EVAL", k_script, "1", bucket, per_second_arg_, burst_arg_},
                          io_errno);
    }
    if (!reply) {
      return tl::unexpected(connection_error(conn_.get(), io_errno, opts_.timeout_command));
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      return fail(errc::unavailable, "the rate limit script failed: " + reply_text(*reply));
    }
    return decode_decision(*reply);
  }

  std::string shared_detail() const {
    return "redis " + endpoint_.describe() + ": limits shared through Redis";
  }

  // conn_mutex_ held, conn_ null. Logs only on the transition.
  void mark_down(const std::string& why) {
    bool was_degraded = false;
    {
      std::lock_guard lock(state_mutex_);
      was_degraded = degraded_;
      degraded_ = true;
      down_.store(true, std::memory_order_release);
      detail_ = "redis " + endpoint_.describe() + ": " + why + "; limiting per process";
    }
    if (was_degraded) return;
    state_changed_.notify_all();
    spdlog::warn("rate limits are per-process until Redis is back: redis {}: {}",
                 endpoint_.describe(), why);
  }

  // conn_mutex_ held, conn_ installed.
  void mark_up() {
    {
      std::lock_guard lock(state_mutex_);
      degraded_ = false;
      down_.store(false, std::memory_order_release);
      detail_ = shared_detail();
    }
    spdlog::info("rate limits are shared through Redis again: redis {} is back",
                 endpoint_.describe());
  }

  // While degraded, one connection attempt per retry interval.
  void reconnect_loop(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      {
        std::unique_lock lock(state_mutex_);
        if (!state_changed_.wait(lock, stop, [&] { return degraded_; })) return;
        state_changed_.wait_for(lock, stop, opts_.retry_interval, [] { return false; });
        if (stop.stop_requested()) return;
      }
      auto opened = open_connection(endpoint_, opts_);
      if (!opened) {
        spdlog::debug("redis {}: still unreachable: {}", endpoint_.describe(),
                      opened.error().message);
        std::lock_guard lock(state_mutex_);
        detail_ = "redis " + endpoint_.describe() + ": " + opened.error().message +
                  "; limiting per process";
        continue;
      }
      std::lock_guard lock(conn_mutex_);
      if (conn_) continue;  // not expected: only this thread reconnects while degraded
      install(std::move(*opened));
      mark_up();
    }
  }

  const redis_endpoint endpoint_;
  const redis_limiter_options opts_;
  const std::string per_second_arg_;  // clamped like token_buckets does
  const std::string burst_arg_;
  token_buckets fallback_;  // thread-safe on its own

  std::mutex conn_mutex_;   // held for a whole round trip; order: conn_mutex_, state_mutex_
  context_ptr conn_;        // guarded by conn_mutex_; null while degraded
  std::string script_sha_;  // guarded by conn_mutex_

  std::atomic<bool> down_{false};  // degraded_, readable without a lock
  mutable std::mutex state_mutex_;
  std::condition_variable_any state_changed_;  // with state_mutex_
  bool degraded_ = false;                      // guarded by state_mutex_
  std::string detail_;                         // guarded by state_mutex_
  std::jthread reconnector_;  // declared last: stopped and joined before the rest goes
};

// URL parsing.

tl::unexpected<error> bad_url(const std::string& why) {
  return fail(errc::invalid_argument, "bad Redis URL: " + why);
}

int hex_value(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

bool all_of_chars(std::string_view s, std::string_view allowed_punct, bool hex_only) {
  return std::all_of(s.begin(), s.end(), [&](char ch) {
    const bool alnum =
        hex_only ? hex_value(ch) >= 0
                 : (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
    return alnum || allowed_punct.find(ch) != std::string_view::npos;
  });
}

// A decimal in [min, max] with at most `max_digits` digits and nothing else.
std::optional<int> parse_decimal(std::string_view s, int min, int max, std::size_t max_digits) {
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::string redis_endpoint::describe() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/" + std::to_string(db);
}

result<redis_endpoint> parse_redis_url(std::string_view url) {
  // No message below quotes any part of the URL: a typo can put the password anywhere.
  constexpr std::string_view k_scheme = "redis://";
  if (url.starts_with("rediss://")) {
    return bad_url("rediss:// (TLS) is not supported: this build's hiredis has no TLS");
  }
  if (!url.starts_with(k_scheme)) {
    return bad_url("expected redis://[:password@|user:password@]host[:port][/db]");
  }
  std::string_view rest = url.substr(k_scheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return bad_url("query strings and fragments are not supported");
  }
  redis_endpoint e;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      return bad_url("credentials must be :password@ or user:password@");
    }
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password = percent_decode(userinfo.substr(colon + 1));
    if (!user || !password) return bad_url("bad percent-encoding in the credentials");
    if (password->empty()) return bad_url("the password is empty");
    e.user = std::move(*user);
    e.password = std::move(*password);
  }
  const auto slash = rest.find('/');
  const auto authority = rest.substr(0, slash);
  std::string_view port_text;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad_url("an IPv6 address needs a closing ]");
    e.host = std::string(authority.substr(1, close - 1));
    const auto after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return bad_url("unexpected text after ]");
    has_port = !after.empty();
    if (has_port) port_text = after.substr(1);
    if (e.host.empty() || !all_of_chars(e.host, ":.", true)) {
      return bad_url("the IPv6 address is not valid");
    }
  } else {
    const auto colon = authority.find(':');
    e.host = std::string(authority.substr(0, colon));
    has_port = colon != std::string_view::npos;
    if (has_port) port_text = authority.substr(colon + 1);
    if (e.host.empty()) return bad_url("the host is missing");
    if (!all_of_chars(e.host, ".-_", false)) {
      return bad_url("the host may hold only letters, digits, '.', '-' and '_'");
    }
  }
  if (has_port) {
    auto port = parse_decimal(port_text, 1, 65535, 5);
    if (!port) return bad_url("the port must be a number in 1..65535");
    e.port = *port;
  }
  if (slash != std::string_view::npos) {
    const auto db_text = rest.substr(slash + 1);
    if (!db_text.empty()) {
      auto db = parse_decimal(db_text, 0, 999'999'999, 9);
      if (!db) return bad_url("the database must be a number (redis://host:port/0)");
      e.db = *db;
    }
  }
  return e;
}

result<std::unique_ptr<rate_limiter>> make_redis_rate_limiter(std::string_view redis_url,
                                                              rate_limit_config config,
                                                              const clock& c,
                                                              redis_limiter_options opts) {
  auto endpoint = parse_redis_url(redis_url);
  if (!endpoint) return tl::unexpected(endpoint.error());
  return std::make_unique<redis_rate_limiter>(std::move(*endpoint), config, c, std::move(opts));
}

}  // namespace grok::api
