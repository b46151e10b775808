// Queue semantics every store backend must implement identically (store/queue_types.h).
#include <gtest/gtest.h>

#include "conformance/store_backends.h"

namespace grok::testing {
namespace {

using store::claim_request;
using store::job_spec;
using store::job_state;
using namespace std::chrono_literals;

class queue_conformance : public store_conformance {
 protected:
  store::job_id add(const std::string& topic = "t", int max_attempts = 3, millis delay = 0ms) {
    auto r = st().enqueue(
        {.topic = topic, .payload = "p", .max_attempts = max_attempts, .delay = delay});
    EXPECT_TRUE(r.has_value()) << (r ? "" : describe(r.error()));
    return r ? r->id : 0;
  }
  std::vector<store::job> take(const std::string& worker = "w1", int limit = 1,
                               std::vector<std::string> topics = {"t"}, millis lease = 10s) {
    auto r = st().claim(claim_request{std::move(topics), worker, lease, limit});
    EXPECT_TRUE(r.has_value()) << (r ? "" : describe(r.error()));
    return r ? *r : std::vector<store::job>{};
  }
  job_state state_of(store::job_id id) {
    auto j = st().get_job(id);
    EXPECT_TRUE(j && *j);
    return (j && *j) ? (*j)->state : job_state::done;
  }
};

TEST_P(queue_conformance, enqueue_creates_ready_jobs_with_increasing_ids) {
  auto a = add();
  auto b = add();
  EXPECT_GT(b, a);
  auto j = st().get_job(a);
  ASSERT_TRUE(j && *j);
  EXPECT_EQ((*j)->state, job_state::ready);
  EXPECT_EQ((*j)->attempts, 0);
  EXPECT_EQ((*j)->max_attempts, 3);
  EXPECT_EQ((*j)->payload, "p");
}

TEST_P(queue_conformance, enqueue_rejects_invalid_specs) {
  EXPECT_EQ(st().enqueue({.topic = ""}).error().code, errc::invalid_argument);
  EXPECT_EQ(st().enqueue({.topic = std::string(201, 'x')}).error().code, errc::invalid_argument);
  EXPECT_EQ(st().enqueue({.topic = "t", .max_attempts = 0}).error().code, errc::invalid_argument);
  EXPECT_EQ(st().enqueue({.topic = "t", .delay = -1ms}).error().code, errc::invalid_argument);
  EXPECT_EQ(
      st().enqueue({.topic = "t", .payload = std::string(8 * 1024 * 1024 + 1, 'x')}).error().code,
      errc::invalid_argument);
  EXPECT_EQ(st().enqueue({.topic = "t", .dedupe_key = ""}).error().code, errc::invalid_argument);
  auto stats = st().get_queue_stats();
  ASSERT_TRUE(stats);
  EXPECT_TRUE(stats->depth.empty());
}

TEST_P(queue_conformance, duplicate_dedupe_key_returns_the_first_job) {
  auto first = st().enqueue({.topic = "t", .payload = "one", .dedupe_key = "k"});
  auto second = st().enqueue({.topic = "t", .payload = "two", .dedupe_key = "k"});
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->created);
  EXPECT_FALSE(second->created);
  EXPECT_EQ(first->id, second->id);
  EXPECT_EQ((*st().get_job(first->id))->payload, "one");
  // The same key on another topic is another job.
  auto other = st().enqueue({.topic = "u", .payload = "three", .dedupe_key = "k"});
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->created);
  EXPECT_NE(other->id, first->id);
}

TEST_P(queue_conformance, dedupe_key_still_holds_after_the_job_is_done) {
  auto first = st().enqueue({.topic = "t", .dedupe_key = "k"});
  ASSERT_TRUE(first);
  auto jobs = take();
  ASSERT_EQ(jobs.size(), 1U);
  ASSERT_TRUE(st().ack(jobs[0].held_lease()));
  auto again = st().enqueue({.topic = "t", .dedupe_key = "k"});
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(state_of(first->id), job_state::done);
}

TEST_P(queue_conformance, claim_takes_the_oldest_visible_job_first) {
  auto late = add("t", 3, 5s);  // visible at +5s
  auto a = add();
  auto b = add();
  auto jobs = take("w1", 10);
  ASSERT_EQ(jobs.size(), 2U);
  EXPECT_EQ(jobs[0].id, a);
  EXPECT_EQ(jobs[1].id, b);
  EXPECT_EQ(jobs[0].state, job_state::leased);
  EXPECT_EQ(jobs[0].attempts, 1);
  EXPECT_EQ(jobs[0].locked_by, "w1");
  EXPECT_TRUE(take().empty());
  clock_.advance(5s);
  jobs = take();
  ASSERT_EQ(jobs.size(), 1U);
  EXPECT_EQ(jobs[0].id, late);
}

TEST_P(queue_conformance, claim_orders_by_visibility_then_id) {
  auto delayed = add("t", 3, 1s);
  clock_.advance(2s);
  auto fresh = add();
  auto jobs = take();
  ASSERT_EQ(jobs.size(), 1U);
  EXPECT_EQ(jobs[0].id, delayed);  // visible since +1s, before `fresh` (+2s)
  jobs = take();
  ASSERT_EQ(jobs.size(), 1U);
  EXPECT_EQ(jobs[0].id, fresh);
}

TEST_P(queue_conformance, claim_only_takes_the_requested_topics) {
  auto t = add("t");
  auto u = add("u");
  auto jobs = take("w1", 10, {"u"});
  ASSERT_EQ(jobs.size(), 1U);
  EXPECT_EQ(jobs[0].id, u);
  jobs = take("w1", 10, {"x", "t"});
  ASSERT_EQ(jobs.size(), 1U);
  EXPECT_EQ(jobs[0].id, t);
}

TEST_P(queue_conformance, claim_respects_the_batch_limit) {
  for (int i = 0; i < 5; ++i) add();
  EXPECT_EQ(take("w1", 3).size(), 3U);
  EXPECT_EQ(take("w1", 3).size(), 2U);
  EXPECT_TRUE(take("w1", 3).empty());
}

TEST_P(queue_conformance, claim_rejects_invalid_requests) {
  EXPECT_EQ(st().claim({{}, "w", 1s, 1}).error().code, errc::invalid_argument);
  EXPECT_EQ(st().claim({{"t"}, "", 1s, 1}).error().code, errc::invalid_argument);
  EXPECT_EQ(st().claim({{"t"}, "w", 0s, 1}).error().code, errc::invalid_argument);
  EXPECT_EQ(st().claim({{"t"}, "w", 1s, 0}).error().code, errc::invalid_argument);
  EXPECT_EQ(st().claim({{"t"}, "w", 1s, 1001}).error().code, errc::invalid_argument);
}

TEST_P(queue_conformance, claimed_job_is_invisible_until_its_lease_expires) {
  add();
  ASSERT_EQ(take("w1", 1, {"t"}, 10s).size(), 1U);
  clock_.advance(9999ms);
  EXPECT_TRUE(take("w2").empty());
  clock_.advance(1ms);
  auto again = take("w2");
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].attempts, 2);
  EXPECT_EQ(again[0].locked_by, "w2");
}

TEST_P(queue_conformance, expired_lease_cannot_ack_after_the_job_was_claimed_again) {
  add();
  auto first = take("w1", 1, {"t"}, 1s);
  ASSERT_EQ(first.size(), 1U);
  clock_.advance(1s);
  auto second = take("w2", 1, {"t"}, 1s);
  ASSERT_EQ(second.size(), 1U);
  EXPECT_EQ(st().ack(first[0].held_lease()).error().code, errc::conflict);
  EXPECT_EQ(st().nack({first[0].held_lease(), "late", 0ms}).error().code, errc::conflict);
  EXPECT_EQ(st().extend_lease(first[0].held_lease(), 1s).error().code, errc::conflict);
  EXPECT_TRUE(st().ack(second[0].held_lease()));
}

TEST_P(queue_conformance, same_worker_is_fenced_by_lease_number) {
  add();
  auto first = take("w1", 1, {"t"}, 1s);
  clock_.advance(1s);
  auto second = take("w1", 1, {"t"}, 1s);  // the same worker id claims it again
  ASSERT_EQ(second.size(), 1U);
  EXPECT_EQ(st().ack(first[0].held_lease()).error().code, errc::conflict);
  EXPECT_TRUE(st().ack(second[0].held_lease()));
}

TEST_P(queue_conformance, expired_but_unclaimed_lease_can_still_ack) {
  auto id = add();
  auto jobs = take("w1", 1, {"t"}, 1s);
  clock_.advance(5s);
  EXPECT_TRUE(st().ack(jobs[0].held_lease()));
  EXPECT_EQ(state_of(id), job_state::done);
}

TEST_P(queue_conformance, ack_marks_done_once) {
  auto id = add();
  auto jobs = take();
  ASSERT_TRUE(st().ack(jobs[0].held_lease()));
  EXPECT_EQ(state_of(id), job_state::done);
  EXPECT_EQ(st().ack(jobs[0].held_lease()).error().code, errc::conflict);
  EXPECT_EQ(st().ack({9999, "w1", 1}).error().code, errc::not_found);
  EXPECT_EQ(st().ack({id, "", 1}).error().code, errc::invalid_argument);
  clock_.advance(1h);
  EXPECT_TRUE(take().empty());
}

TEST_P(queue_conformance, nack_makes_the_job_visible_after_the_delay) {
  auto id = add();
  auto jobs = take();
  auto r = st().nack({jobs[0].held_lease(), "boom", 3s});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, store::nack_outcome::retry_scheduled);
  auto j = *st().get_job(id);
  EXPECT_EQ(j->state, job_state::ready);
  EXPECT_EQ(j->last_error, "boom");
  EXPECT_FALSE(j->locked_by);
  clock_.advance(2999ms);
  EXPECT_TRUE(take().empty());
  clock_.advance(1ms);
  auto again = take();
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].attempts, 2);
}

TEST_P(queue_conformance, job_is_dead_after_max_attempts_failures) {
  auto id = add("t", 3);
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto jobs = take();
    ASSERT_EQ(jobs.size(), 1U) << "attempt " << attempt;
    EXPECT_EQ(jobs[0].attempts, attempt);
    auto r = st().nack({jobs[0].held_lease(), "fail " + std::to_string(attempt), 0ms});
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, attempt < 3 ? store::nack_outcome::retry_scheduled : store::nack_outcome::dead);
  }
  EXPECT_EQ(state_of(id), job_state::dead);
  EXPECT_EQ((*st().get_job(id))->last_error, "fail 3");
  clock_.advance(1h);
  EXPECT_TRUE(take().empty());
}

TEST_P(queue_conformance, permanent_nack_dead_letters_at_once) {
  auto id = add("t", 5);
  auto jobs = take();
  auto r = st().nack({jobs[0].held_lease(), "bad payload", 0ms, true});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, store::nack_outcome::dead);
  EXPECT_EQ(state_of(id), job_state::dead);
}

TEST_P(queue_conformance, lease_expiry_on_the_final_attempt_dead_letters_the_job) {
  auto id = add("t", 2);
  take("w1", 1, {"t"}, 1s);
  clock_.advance(1s);
  take("w2", 1, {"t"}, 1s);  // attempt 2 of 2
  clock_.advance(1s);
  EXPECT_TRUE(take("w3").empty());
  auto j = *st().get_job(id);
  EXPECT_EQ(j->state, job_state::dead);
  EXPECT_EQ(j->attempts, 2);
  ASSERT_TRUE(j->last_error);
  EXPECT_NE(j->last_error->find("lease expired"), std::string::npos);
}

TEST_P(queue_conformance, requeue_makes_a_dead_job_ready_with_attempts_reset) {
  auto id = add("t", 1);
  auto jobs = take();
  ASSERT_TRUE(st().nack({jobs[0].held_lease(), "boom", 0ms}));
  ASSERT_EQ(state_of(id), job_state::dead);
  ASSERT_TRUE(st().requeue_dead(id));
  auto j = *st().get_job(id);
  EXPECT_EQ(j->state, job_state::ready);
  EXPECT_EQ(j->attempts, 0);
  auto again = take();
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].attempts, 1);
}

// Regression: requeue resets attempts, so fencing by attempt number let a lease from before
// the job died ack the job's next claim by the same worker.
TEST_P(queue_conformance, lease_from_before_a_requeue_cannot_ack_the_new_claim) {
  auto id = add("t", 1);
  auto first = take("w1", 1, {"t"}, 1s);
  ASSERT_EQ(first.size(), 1U);
  clock_.advance(1s);
  EXPECT_TRUE(take("w1").empty());  // final attempt's lease expired: dead-lettered
  ASSERT_EQ(state_of(id), job_state::dead);
  ASSERT_TRUE(st().requeue_dead(id));
  auto second = take("w1", 1, {"t"}, 1s);
  ASSERT_EQ(second.size(), 1U);
  EXPECT_EQ(second[0].attempts, first[0].attempts);
  EXPECT_GT(second[0].lease_seq, first[0].lease_seq);
  EXPECT_EQ(st().ack(first[0].held_lease()).error().code, errc::conflict);
  EXPECT_TRUE(st().ack(second[0].held_lease()));
}

TEST_P(queue_conformance, requeue_refuses_jobs_that_are_not_dead) {
  auto id = add();
  EXPECT_EQ(st().requeue_dead(id).error().code, errc::conflict);
  EXPECT_EQ(st().requeue_dead(424242).error().code, errc::not_found);
}

TEST_P(queue_conformance, extend_lease_keeps_the_job_invisible) {
  add();
  auto jobs = take("w1", 1, {"t"}, 2s);
  clock_.advance(1500ms);
  ASSERT_TRUE(st().extend_lease(jobs[0].held_lease(), 2s));
  clock_.advance(1500ms);
  EXPECT_TRUE(take("w2").empty());
  clock_.advance(500ms);
  EXPECT_EQ(take("w2").size(), 1U);
}

TEST_P(queue_conformance, stats_report_depth_and_lag) {
  add("a");
  add("a");
  add("b");
  add("b", 3, 10s);
  clock_.advance(4s);
  auto jobs = take("w", 1, {"a"});
  ASSERT_EQ(jobs.size(), 1U);
  auto stats = st().get_queue_stats();
  ASSERT_TRUE(stats);
  std::map<std::pair<std::string, job_state>, std::int64_t> depth;
  for (const auto& d : stats->depth) depth[{d.topic, d.state}] = d.count;
  EXPECT_EQ((depth[{"a", job_state::ready}]), 1);
  EXPECT_EQ((depth[{"a", job_state::leased}]), 1);
  EXPECT_EQ((depth[{"b", job_state::ready}]), 2);
  EXPECT_EQ(stats->visible, 2);  // one "a", one "b"; the delayed "b" is not yet visible
  ASSERT_TRUE(stats->oldest_visible_lag);
  EXPECT_EQ(*stats->oldest_visible_lag, 4s);
}

TEST_P(queue_conformance, stats_of_an_empty_queue_have_no_lag) {
  auto stats = st().get_queue_stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->visible, 0);
  EXPECT_FALSE(stats->oldest_visible_lag);
}

TEST_P(queue_conformance, next_visible_at_reports_the_earliest_due_job) {
  EXPECT_FALSE(*st().next_visible_at({"t"}));
  add("t", 3, 7s);
  add("u", 3, 1s);
  auto next = st().next_visible_at({"t"});
  ASSERT_TRUE(next && *next);
  EXPECT_EQ(**next, clock_.now() + 7s);
}

TEST_P(queue_conformance, signal_moves_on_enqueue_nack_and_requeue_only) {
  auto& signal = st().jobs_signal();
  auto g0 = signal.generation();
  auto id = add("t", 1);
  auto g1 = signal.generation();
  EXPECT_GT(g1, g0);
  auto jobs = take();
  EXPECT_EQ(signal.generation(), g1);
  ASSERT_TRUE(st().nack({jobs[0].held_lease(), "x", 0ms}));  // dead: nothing to wake for
  EXPECT_EQ(signal.generation(), g1);
  ASSERT_TRUE(st().requeue_dead(id));
  EXPECT_GT(signal.generation(), g1);
}

TEST_P(queue_conformance, failed_transaction_leaves_nothing_behind) {
  auto r = st().transact([](store::transaction& tx) -> result<void> {
    auto a = tx.enqueue({.topic = "t", .dedupe_key = "k"});
    if (!a) return tl::unexpected(a.error());
    return fail(errc::cancelled, "changed my mind");
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::cancelled);
  EXPECT_TRUE(take().empty());
  auto again = st().enqueue({.topic = "t", .dedupe_key = "k"});
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->created);
}

TEST_P(queue_conformance, list_jobs_pages_by_id_and_filters_by_state) {
  std::vector<store::job_id> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(add());
  auto jobs = take("w", 2);
  auto page = st().list_jobs({.state = std::nullopt, .after = 0, .limit = 3});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 3U);
  EXPECT_EQ((*page)[0].id, ids[0]);
  auto next = st().list_jobs({.state = std::nullopt, .after = page->back().id, .limit = 3});
  ASSERT_TRUE(next);
  ASSERT_EQ(next->size(), 2U);
  EXPECT_EQ((*next)[1].id, ids[4]);
  auto leased = st().list_jobs({.state = job_state::leased});
  ASSERT_TRUE(leased);
  EXPECT_EQ(leased->size(), 2U);
}

INSTANTIATE_TEST_SUITE_P(backends, queue_conformance, ::testing::ValuesIn(all_store_backends()),
                         backend_name);

}  // namespace
}  // namespace grok::testing
