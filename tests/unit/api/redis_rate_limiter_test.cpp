#include "api/redis_rate_limiter.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests_support/redis_server.h"

namespace grok::api {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using testing::redis_server;

// Polls `done` until it holds or `timeout` passes (for things that must happen).
template <class Predicate>
bool wait_until(Predicate done, milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// A plain hiredis connection for looking at what the limiter stored.
class redis_client {
 public:
  explicit redis_client(int port) : ctx_(redisConnect("127.0.0.1", port)) {
    if (ctx_ == nullptr || ctx_->err != 0) throw std::runtime_error("cannot connect to Redis");
  }
  ~redis_client() { redisFree(ctx_); }
  redis_client(const redis_client&) = delete;
  redis_client& operator=(const redis_client&) = delete;

  // The reply as text: strings and status as they are, integers in decimal, nil as "(nil)".
  std::string command(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(ctx_, static_cast<int>(args.size()), argv.data(), lengths.data()));
    if (r == nullptr) throw std::runtime_error("Redis connection failed");
    std::string out = r->type == REDIS_REPLY_INTEGER ? std::to_string(r->integer)
                      : r->type == REDIS_REPLY_NIL   ? "(nil)"
                                                     : std::string(r->str, r->len);
    freeReplyObject(r);
    return out;
  }

 private:
  redisContext* ctx_;
};

// Every test captures the log, to count transitions and look for leaked passwords.
class redis_limiter : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = spdlog::default_logger();
    sink_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("redis_limiter_test", sink_));
  }
  void TearDown() override { spdlog::set_default_logger(previous_); }

  std::unique_ptr<rate_limiter> make(const std::string& url, rate_limit_config config,
                                     redis_limiter_options opts = {}) {
    auto made = make_redis_rate_limiter(url, config, clock_, std::move(opts));
    if (!made) throw std::runtime_error(made.error().message);
    return std::move(*made);
  }

  // Log lines at `level` containing `needle`.
  int count_logs(spdlog::level::level_enum level, const std::string& needle) {
    int n = 0;
    for (const auto& m : sink_->last_raw()) {
      const std::string text(m.payload.data(), m.payload.size());
      if (m.level == level && text.find(needle) != std::string::npos) ++n;
    }
    return n;
  }
  bool any_log_contains(const std::string& needle) {
    for (const auto& line : sink_->last_formatted()) {
      if (line.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  manual_clock clock_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

constexpr auto k_down_warning = "rate limits are per-process until Redis is back";
// So slow a refill that the real time a test takes never adds a whole token.
constexpr rate_limit_config k_slow{.per_second = 0.001, .burst = 3};

int count_allowed(rate_limiter& a, rate_limiter& b, const std::string& key, int takes) {
  int allowed = 0;
  for (int i = 0; i < takes; ++i) allowed += (i % 2 == 0 ? a : b).take(key).allowed ? 1 : 0;
  return allowed;
}

TEST_F(redis_limiter, two_processes_on_one_redis_share_one_limit) {
  redis_server server;
  auto a = make(server.url(), {.per_second = 0.001, .burst = 5});
  auto b = make(server.url(), {.per_second = 0.001, .burst = 5});
  EXPECT_EQ(a->health().backend, "redis");
  EXPECT_FALSE(a->health().degraded) << a->health().detail;
  int allowed = 0;
  for (int i = 0; i < 10; ++i) {
    auto d = (i % 2 == 0 ? *a : *b).take("key_1");
    if (d.allowed) {
      ++allowed;
    } else {
      EXPECT_GT(d.retry_after, milliseconds(0)) << i;
      EXPECT_EQ(d.remaining, 0) << i;
    }
  }
  EXPECT_EQ(allowed, 5);
  // Another key has its own bucket.
  EXPECT_TRUE(b->take("key_2").allowed);
  EXPECT_FALSE(a->health().degraded);
  EXPECT_FALSE(b->health().degraded);
}

TEST_F(redis_limiter, concurrent_takes_from_many_threads_grant_exactly_the_burst) {
  redis_server server;
  auto a = make(server.url(), {.per_second = 0.001, .burst = 60});
  auto b = make(server.url(), {.per_second = 0.001, .burst = 60});
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto& limiter = t % 2 == 0 ? *a : *b;
      for (int i = 0; i < 50; ++i) allowed += limiter.take("hot").allowed ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 60);
  EXPECT_FALSE(a->health().degraded);
}

TEST_F(redis_limiter, numbers_match_the_in_process_buckets) {
  redis_server server;
  for (const rate_limit_config config : {rate_limit_config{.per_second = 0.01, .burst = 5},
                                         rate_limit_config{.per_second = 0.02, .burst = 2.5}}) {
    manual_clock local_clock;  // never moves: the in-process answer with no time passing
    token_buckets local(config, local_clock);
    auto shared = make(server.url(), config);
    const std::string key = "same_" + std::to_string(config.burst);
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 8; ++i) {
      const auto want = local.take(key);
      const auto got = shared->take(key);
      const auto passed =
          std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
      EXPECT_EQ(got.allowed, want.allowed) << i;
      EXPECT_EQ(got.remaining, want.remaining) << i;
      // Redis's clock moved on by at most `passed` (and its millisecond rounding): its
      // bucket holds at most that much more refill, which is that much less waiting.
      const auto slack = passed + milliseconds(2);
      EXPECT_LE(got.retry_after, want.retry_after) << i;
      EXPECT_GE(got.retry_after, want.retry_after - slack) << i;
      EXPECT_LE(got.reset, want.reset) << i;
      EXPECT_GE(got.reset, want.reset - slack) << i;
    }
  }
}

TEST_F(redis_limiter, an_empty_bucket_refills_by_the_servers_clock_and_idle_keys_expire) {
  redis_server server;
  redis_client raw(server.port());
  auto limiter = make(server.url(), {.per_second = 1, .burst = 3});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter->take("k").allowed);
  auto refused = limiter->take("k");
  EXPECT_FALSE(refused.allowed);
  EXPECT_GT(refused.retry_after, milliseconds(0));
  EXPECT_LE(refused.retry_after, milliseconds(1000));

  // The bucket is a hash that expires about when it would be full again.
  const auto ttl = std::stoll(raw.command({"PTTL", "grok:rl:k"}));
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, refused.reset.count() + 1000);
  // A minute earlier by the server's clock: the bucket has refilled, up to the burst.
  const auto updated = std::stoll(raw.command({"HGET", "grok:rl:k", "updated_ms"}));
  raw.command({"HSET", "grok:rl:k", "updated_ms", std::to_string(updated - 60'000)});
  auto refilled = limiter->take("k");
  EXPECT_TRUE(refilled.allowed);
  EXPECT_EQ(refilled.remaining, 2);
}

TEST_F(redis_limiter, a_flushed_script_cache_is_loaded_again) {
  redis_server server;
  redis_client raw(server.port());
  auto limiter = make(server.url(), k_slow);
  EXPECT_TRUE(limiter->take("k").allowed);
  raw.command({"SCRIPT", "FLUSH"});
  auto d = limiter->take("k");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 1);  // the same bucket, in Redis
  EXPECT_FALSE(limiter->health().degraded);
}

TEST_F(redis_limiter, the_key_prefix_and_database_come_from_options_and_url) {
  redis_server server;
  redis_client raw(server.port());
  redis_limiter_options opts;
  opts.key_prefix = "test:limits:";
  auto limiter = make(server.url() + "/3", k_slow, opts);
  EXPECT_TRUE(limiter->take("key_9").allowed);
  EXPECT_EQ(raw.command({"EXISTS", "test:limits:key_9"}), "0");  // not in db 0
  raw.command({"SELECT", "3"});
  EXPECT_EQ(raw.command({"EXISTS", "test:limits:key_9"}), "1");
  EXPECT_NE(limiter->health().detail.find(":" + std::to_string(server.port()) + "/3"),
            std::string::npos);
}

TEST_F(redis_limiter, falls_back_in_process_while_redis_is_down_and_shares_again_after) {
  redis_server server;
  redis_limiter_options opts;
  opts.retry_interval = 50ms;
  auto a = make(server.url(), k_slow, opts);
  auto b = make(server.url(), k_slow, opts);
  EXPECT_EQ(count_allowed(*a, *b, "before", 6), 3);

  server.stop();
  // Each process still limits, on its own buckets.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(a->take("k").allowed) << i;
  auto refused = a->take("k");
  EXPECT_FALSE(refused.allowed);
  EXPECT_GT(refused.retry_after, milliseconds(0));
  EXPECT_TRUE(b->take("k").allowed);
  for (auto* limiter : {a.get(), b.get()}) {
    const auto h = limiter->health();
    EXPECT_EQ(h.backend, "redis");
    EXPECT_TRUE(h.degraded);
    EXPECT_NE(h.detail.find("127.0.0.1:" + std::to_string(server.port())), std::string::npos)
        << h.detail;
  }
  for (int i = 0; i < 100; ++i) (void)a->take("other_" + std::to_string(i));
  EXPECT_EQ(count_logs(spdlog::level::warn, k_down_warning), 2);  // once per limiter

  server.start();
  EXPECT_TRUE(wait_until([&] { return !a->health().degraded && !b->health().degraded; }))
      << a->health().detail << " / " << b->health().detail;
  EXPECT_EQ(count_allowed(*a, *b, "after", 6), 3);
  EXPECT_EQ(count_logs(spdlog::level::warn, k_down_warning), 2);
  EXPECT_EQ(count_logs(spdlog::level::info, "shared through Redis again"), 2);
}

TEST_F(redis_limiter, a_redis_restart_between_requests_is_picked_up_without_degrading) {
  redis_server server;
  auto limiter = make(server.url(), k_slow);
  EXPECT_TRUE(limiter->take("k").allowed);
  server.stop();
  server.start();
  auto d = limiter->take("k");  // the old connection is dead: reopened at once
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 2);  // a new Redis, an empty bucket
  EXPECT_FALSE(limiter->health().degraded);
  EXPECT_EQ(count_logs(spdlog::level::warn, k_down_warning), 0);
}

TEST_F(redis_limiter, starts_degraded_when_redis_is_down_and_recovers_when_it_comes) {
  redis_server server;
  server.stop();
  redis_limiter_options opts;
  opts.retry_interval = 50ms;
  auto limiter = make(server.url(), k_slow, opts);  // does not fail
  auto h = limiter->health();
  EXPECT_TRUE(h.degraded);
  EXPECT_NE(h.detail.find("refused"), std::string::npos) << h.detail;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter->take("k").allowed);
  EXPECT_FALSE(limiter->take("k").allowed);
  EXPECT_EQ(count_logs(spdlog::level::warn, k_down_warning), 1);

  server.start();
  EXPECT_TRUE(wait_until([&] { return !limiter->health().degraded; }));
  EXPECT_TRUE(limiter->take("k").allowed);  // the bucket in Redis, not the local one
}

TEST_F(redis_limiter, a_redis_that_stops_answering_times_out_into_the_fallback) {
  redis_server server;
  redis_limiter_options opts;
  opts.retry_interval = 50ms;
  opts.timeout_command = 100ms;
  auto limiter = make(server.url(), k_slow, opts);
  EXPECT_TRUE(limiter->take("k").allowed);
  server.pause();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(limiter->take("k").allowed);  // from the in-process bucket
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_TRUE(limiter->health().degraded);
  EXPECT_NE(limiter->health().detail.find("no answer within 100 ms"), std::string::npos)
      << limiter->health().detail;
  server.resume();
  EXPECT_TRUE(wait_until([&] { return !limiter->health().degraded; }));
}

TEST_F(redis_limiter, a_redis_with_a_password_needs_the_right_one) {
  const std::string password = "pw-right-123";
  const std::string wrong = "pw-wrong-456";
  redis_server server({"--requirepass", password});
  auto good = make(server.url(password), k_slow);
  EXPECT_FALSE(good->health().degraded) << good->health().detail;
  auto as_user =
      make("redis://default:" + password + "@127.0.0.1:" + std::to_string(server.port()), k_slow);
  EXPECT_FALSE(as_user->health().degraded) << as_user->health().detail;
  EXPECT_EQ(count_allowed(*good, *as_user, "k", 6), 3);

  auto bad = make(server.url(wrong), k_slow);
  EXPECT_TRUE(bad->health().degraded);
  EXPECT_NE(bad->health().detail.find("authentication failed"), std::string::npos)
      << bad->health().detail;
  EXPECT_TRUE(bad->take("k").allowed);  // still answers, from its own buckets
  auto none = make(server.url(), k_slow);
  EXPECT_TRUE(none->health().degraded);
  EXPECT_NE(none->health().detail.find("NOAUTH"), std::string::npos) << none->health().detail;

  for (auto* limiter : {good.get(), as_user.get(), bad.get(), none.get()}) {
    EXPECT_EQ(limiter->health().detail.find(password), std::string::npos);
    EXPECT_EQ(limiter->health().detail.find(wrong), std::string::npos);
  }
  EXPECT_EQ(count_logs(spdlog::level::warn, k_down_warning), 2);
  EXPECT_FALSE(any_log_contains(password));
  EXPECT_FALSE(any_log_contains(wrong));
}

TEST(redis_url, good_urls_parse) {
  auto plain = parse_redis_url("redis://127.0.0.1");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->host, "127.0.0.1");
  EXPECT_EQ(plain->port, 6379);
  EXPECT_EQ(plain->db, 0);
  EXPECT_TRUE(plain->password.empty());
  EXPECT_EQ(plain->describe(), "127.0.0.1:6379/0");

  auto full = parse_redis_url("redis://alice:p%40ss:w@redis-1.internal:6380/2");
  ASSERT_TRUE(full) << full.error().message;
  EXPECT_EQ(full->user, "alice");
  EXPECT_EQ(full->password, "p@ss:w");
  EXPECT_EQ(full->host, "redis-1.internal");
  EXPECT_EQ(full->port, 6380);
  EXPECT_EQ(full->db, 2);
  EXPECT_EQ(full->describe(), "redis-1.internal:6380/2");

  auto password_only = parse_redis_url("redis://:secret@localhost/");
  ASSERT_TRUE(password_only);
  EXPECT_TRUE(password_only->user.empty());
  EXPECT_EQ(password_only->password, "secret");
  EXPECT_EQ(password_only->db, 0);

  auto v6 = parse_redis_url("redis://[::1]:7000/1");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->describe(), "[::1]:7000/1");
}

TEST(redis_url, bad_urls_are_rejected_without_echoing_the_password) {
  manual_clock clock;
  for (const std::string url : {"",
                                "localhost:6379",
                                "redis:/host",
                                "http://:s3cret@host",
                                "rediss://:s3cret@host",
                                "redis://",
                                "redis://:s3cret@",
                                "redis://:s3cret@:6379",
                                "redis://s3cret@host",
                                "redis://user:@host",
                                "redis://host:s3cret",
                                "redis://host:0",
                                "redis://host:65536",
                                "redis://host:",
                                "redis://host:+80",
                                "redis://host/s3cret",
                                "redis://host/1/2",
                                "redis://host/-1",
                                "redis://:s3cret@host?timeout=1",
                                "redis://host#s3cret",
                                "redis://[::1",
                                "redis://[::1]x",
                                "redis://[zz::s3cret]:6379",
                                "redis://ho st",
                                "redis://:s3cret%zz@host",
                                "redis://:s3cret%4@host"}) {
    auto parsed = parse_redis_url(url);
    ASSERT_FALSE(parsed) << url;
    EXPECT_EQ(parsed.error().code, errc::invalid_argument) << url;
    EXPECT_EQ(parsed.error().message.find("s3cret"), std::string::npos) << parsed.error().message;
    EXPECT_FALSE(parsed.error().message.empty());
    auto made = make_redis_rate_limiter(url, k_slow, clock);
    ASSERT_FALSE(made) << url;
    EXPECT_EQ(made.error().code, errc::invalid_argument) << url;
  }
}

TEST(redis_url, health_never_shows_the_password) {
  manual_clock clock;
  redis_server server;
  server.stop();  // nothing listens on its port now
  auto made = make_redis_rate_limiter(
      "redis://:top-s3cret@127.0.0.1:" + std::to_string(server.port()) + "/0", k_slow, clock);
  ASSERT_TRUE(made) << made.error().message;
  const auto h = (*made)->health();
  EXPECT_TRUE(h.degraded);
  EXPECT_EQ(h.detail.find("top-s3cret"), std::string::npos) << h.detail;
}

}  // namespace
}  // namespace grok::api
