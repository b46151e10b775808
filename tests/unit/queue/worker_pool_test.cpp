#include "queue/worker_pool.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <stdexcept>

#include "conformance/store_backends.h"
#include "tests_support/temp_dir.h"

namespace grok::queue {
namespace {

using namespace std::chrono_literals;
using grok::testing::temp_dir;

// Counts handler calls; tests wait on it with a bounded timeout instead of sleeping.
class call_counter {
 public:
  void hit() {
    {
      std::lock_guard lock(mutex_);
      ++count_;
    }
    changed_.notify_all();
  }
  bool wait_for(int n, std::chrono::seconds timeout = 20s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return count_ >= n; });
  }
  int count() {
    std::lock_guard lock(mutex_);
    return count_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int count_ = 0;
};

// Every test runs on each store backend (SQLite, PostgreSQL), on the system clock.
class worker_pool_test : public ::testing::TestWithParam<grok::testing::store_backend> {
 protected:
  void SetUp() override {
    store_ = GetParam().open(dir_, system_clock::instance());
    ASSERT_TRUE(store_);
  }
  worker_pool_options options(int workers = 2) {
    worker_pool_options o;
    o.workers = workers;
    o.lease = 30s;
    o.backoff = {1ms, 2ms};
    // Long enough that a test passing on time proves a wake-up, not a periodic recheck.
    o.idle_recheck = 1h;
    return o;
  }
  store::job_state state_of(store::job_id id) { return (*store_->get_job(id))->state; }

  temp_dir dir_;
  std::unique_ptr<store::store> store_;
};

TEST_P(worker_pool_test, processes_every_job_once_and_acks_it) {
  std::mutex seen_mutex;
  std::multiset<std::string> seen;
  call_counter calls;
  worker_pool pool(*store_, options(3));
  pool.register_handler("echo", [&](const job_context& ctx) {
    {
      std::lock_guard lock(seen_mutex);
      seen.insert(ctx.job.payload);
    }
    calls.hit();
    return job_outcome::success();
  });
  pool.start();
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(store_->enqueue({.topic = "echo", .payload = std::to_string(i)}));
  ASSERT_TRUE(calls.wait_for(50));
  pool.stop();
  EXPECT_EQ(seen.size(), 50U);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 50U);
  EXPECT_EQ(pool.counters().succeeded, 50U);
  auto done = store_->list_jobs({.state = store::job_state::done, .limit = 1000});
  EXPECT_EQ(done->size(), 50U);
}

TEST_P(worker_pool_test, idle_worker_wakes_on_enqueue_without_polling) {
  call_counter calls;
  worker_pool pool(*store_, options(1));
  pool.register_handler("t", [&](const job_context&) {
    calls.hit();
    return job_outcome::success();
  });
  pool.start();
  for (int round = 1; round <= 3; ++round) {
    ASSERT_TRUE(store_->enqueue({.topic = "t"}));
    ASSERT_TRUE(calls.wait_for(round)) << "round " << round;  // idle_recheck is one hour
  }
}

TEST_P(worker_pool_test, delayed_job_runs_when_it_falls_due) {
  call_counter calls;
  worker_pool pool(*store_, options(1));
  pool.register_handler("t", [&](const job_context&) {
    calls.hit();
    return job_outcome::success();
  });
  pool.start();
  ASSERT_TRUE(store_->enqueue({.topic = "t", .delay = 150ms}));
  EXPECT_TRUE(calls.wait_for(1));
}

TEST_P(worker_pool_test, failing_job_is_retried_then_dead_lettered) {
  call_counter calls;
  worker_pool pool(*store_, options(2));
  pool.register_handler("flaky", [&](const job_context& ctx) {
    calls.hit();
    return job_outcome::retry_later("attempt " + std::to_string(ctx.job.attempts) + " failed");
  });
  pool.start();
  auto id = store_->enqueue({.topic = "flaky", .max_attempts = 3});
  ASSERT_TRUE(id);
  ASSERT_TRUE(calls.wait_for(3));
  pool.stop();  // drains: the third nack has landed when stop returns
  EXPECT_EQ(calls.count(), 3);
  auto j = *store_->get_job(id->id);
  EXPECT_EQ(j->state, store::job_state::dead);
  EXPECT_EQ(j->last_error, "attempt 3 failed");
  EXPECT_EQ(pool.counters().retried, 2U);
  EXPECT_EQ(pool.counters().dead_lettered, 1U);
}

TEST_P(worker_pool_test, permanent_failure_and_exceptions) {
  call_counter calls;
  worker_pool pool(*store_, options(1));
  pool.register_handler("bad", [&](const job_context&) {
    calls.hit();
    return job_outcome::fail_permanently("payload is not JSON");
  });
  pool.register_handler("throws", [&](const job_context&) -> job_outcome {
    calls.hit();
    throw std::runtime_error("kaboom");
  });
  pool.start();
  auto bad = store_->enqueue({.topic = "bad", .max_attempts = 5});
  auto thrower = store_->enqueue({.topic = "throws", .max_attempts = 2});
  ASSERT_TRUE(bad && thrower);
  ASSERT_TRUE(calls.wait_for(3));
  pool.stop();
  EXPECT_EQ(state_of(bad->id), store::job_state::dead);
  auto t = *store_->get_job(thrower->id);
  EXPECT_EQ(t->state, store::job_state::dead);
  EXPECT_EQ(t->attempts, 2);
  EXPECT_NE(t->last_error->find("kaboom"), std::string::npos);
}

TEST_P(worker_pool_test, retry_after_overrides_the_backoff) {
  call_counter calls;
  worker_pool pool(*store_, options(1));
  pool.register_handler("t", [&](const job_context&) {
    calls.hit();
    return job_outcome::retry_later("rate limited", 1h);
  });
  pool.start();
  auto id = store_->enqueue({.topic = "t"});
  ASSERT_TRUE(calls.wait_for(1));
  pool.stop();
  auto j = *store_->get_job(id->id);
  EXPECT_EQ(j->state, store::job_state::ready);
  EXPECT_GE(j->visible_after, store_->store_clock().now() + 59min);
}

TEST_P(worker_pool_test, stop_drains_jobs_in_flight) {
  call_counter started;
  worker_pool pool(*store_, options(1));
  pool.register_handler("slow", [&](const job_context& ctx) {
    started.hit();
    // Finish only once shutdown has begun: stop() must wait for us and then ack.
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    cv.wait(lock, ctx.stop, [] { return false; });
    return job_outcome::success();
  });
  pool.start();
  auto id = store_->enqueue({.topic = "slow"});
  ASSERT_TRUE(started.wait_for(1));
  pool.stop();
  EXPECT_FALSE(pool.running());
  EXPECT_EQ(state_of(id->id), store::job_state::done);
}

TEST_P(worker_pool_test, handler_can_extend_its_lease) {
  call_counter calls;
  worker_pool_options o = options(1);
  o.lease = 5s;
  worker_pool pool(*store_, o);
  time_point before_extend;
  time_point after_extend;
  pool.register_handler("t", [&](const job_context& ctx) {
    before_extend = (*ctx.store.get_job(ctx.job.id))->visible_after;
    EXPECT_TRUE(ctx.extend_lease());
    after_extend = (*ctx.store.get_job(ctx.job.id))->visible_after;
    calls.hit();
    return job_outcome::success();
  });
  pool.start();
  ASSERT_TRUE(store_->enqueue({.topic = "t"}));
  ASSERT_TRUE(calls.wait_for(1));
  pool.stop();
  EXPECT_GE(after_extend, before_extend);
}

// A handler that outlives its lease keeps the job: the pool extends the lease while it
// runs, so a second pool on the same store never claims the job meanwhile.
TEST_P(worker_pool_test, leases_of_running_handlers_are_kept_alive) {
  worker_pool_options o = options(1);
  o.lease = 150ms;
  std::mutex mutex;
  std::condition_variable cv;
  bool release = false;
  call_counter started;
  call_counter calls;
  worker_pool pool(*store_, o);
  pool.register_handler("t", [&](const job_context&) {
    calls.hit();
    started.hit();
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return release; });
    return job_outcome::success();
  });
  pool.start();
  // Lets the handler finish however the test ends (declared after the pool, so it runs
  // before the pool's destructor waits for the handler).
  auto let_go = [&] {
    {
      std::lock_guard lock(mutex);
      release = true;
    }
    cv.notify_all();
  };
  struct on_exit {
    std::function<void()> run;
    ~on_exit() { run(); }
  } finally{let_go};
  auto job = store_->enqueue({.topic = "t"});
  ASSERT_TRUE(job);
  ASSERT_TRUE(started.wait_for(1));
  const auto first_end = (*store_->get_job(job->id))->visible_after;
  // Wait (bounded, by watching the row) until the lease was pushed out past several of its
  // original lengths: long after it would have run out without extensions.
  auto extended_past = [&](std::chrono::milliseconds by) {
    for (int i = 0; i < 2000; ++i) {
      if ((*store_->get_job(job->id))->visible_after >= first_end + by) return true;
      std::unique_lock lock(mutex);
      cv.wait_for(lock, 5ms);
    }
    return false;
  };
  ASSERT_TRUE(extended_past(450ms));
  // Another worker finds nothing to claim: the job is still leased.
  auto other = store_->claim({.topics = {"t"}, .worker_id = "other", .lease_for = 1s, .limit = 1});
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->empty());
  EXPECT_EQ(state_of(job->id), store::job_state::leased);
  let_go();
  pool.stop();
  EXPECT_EQ(calls.count(), 1);
  EXPECT_EQ(state_of(job->id), store::job_state::done);
}

TEST_P(worker_pool_test, pool_without_handlers_starts_and_stops) {
  worker_pool pool(*store_, options(2));
  pool.start();
  EXPECT_TRUE(pool.running());
  pool.stop();
  EXPECT_FALSE(pool.running());
  pool.stop();  // idempotent
}

INSTANTIATE_TEST_SUITE_P(backends, worker_pool_test,
                         ::testing::ValuesIn(grok::testing::all_store_backends()),
                         grok::testing::backend_name);

}  // namespace
}  // namespace grok::queue
