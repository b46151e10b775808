// Runs, steps, events and artifacts: semantics every store backend must implement.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "conformance/store_backends.h"
#include "core/ids.h"

namespace grok::testing {
namespace {

using store::run_record;
using store::run_status;
using namespace std::chrono_literals;

class runs_conformance : public store_conformance {
 protected:
  std::string make_run(run_status status = run_status::queued,
                       std::optional<std::string> owner = std::nullopt) {
    run_record r;
    r.id = new_id("run", clock_.now());
    r.status = status;
    r.input = "what is 2+2?";
    r.options_json = R"({"max_steps":4})";
    r.owner_key_id = std::move(owner);
    r.created_at = clock_.now();
    auto ok = st().transact([&](store::transaction& tx) { return tx.insert_run(r); });
    EXPECT_TRUE(ok) << (ok ? "" : describe(ok.error()));
    return r.id;
  }
  result<std::int64_t> append(const std::string& run_id, const std::string& type) {
    std::int64_t seq = 0;
    auto ok = st().transact([&](store::transaction& tx) -> result<void> {
      auto s = tx.append_event(
          {.run_id = run_id, .type = type, .ts = tx.now(), .body_json = R"({"k":1})"});
      if (!s) return tl::unexpected(s.error());
      seq = *s;
      return {};
    });
    if (!ok) return tl::unexpected(ok.error());
    return seq;
  }
};

TEST_P(runs_conformance, inserted_run_reads_back_unchanged) {
  auto id = make_run(run_status::queued, "key_1");
  auto got = st().get_run(id);
  ASSERT_TRUE(got && *got);
  const auto& r = **got;
  EXPECT_EQ(r.id, id);
  EXPECT_EQ(r.status, run_status::queued);
  EXPECT_EQ(r.input, "what is 2+2?");
  EXPECT_EQ(r.options_json, R"({"max_steps":4})");
  EXPECT_EQ(r.owner_key_id, "key_1");
  EXPECT_EQ(r.created_at, clock_.now());
  EXPECT_FALSE(r.started_at);
  EXPECT_EQ(r.last_seq, 0);
  EXPECT_FALSE(r.trace_parent);
  EXPECT_FALSE(*st().get_run("run_missing"));
}

TEST_P(runs_conformance, trace_parent_round_trips_and_survives_updates) {
  const std::string parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  run_record r;
  r.id = new_id("run", clock_.now());
  r.input = "traced";
  r.trace_parent = parent;
  r.created_at = clock_.now();
  ASSERT_TRUE(st().transact([&](store::transaction& tx) { return tx.insert_run(r); }));
  auto got = st().get_run(r.id);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->trace_parent, parent);
  r.status = run_status::completed;
  r.answer = "done";
  ASSERT_TRUE(st().transact([&](store::transaction& tx) { return tx.update_run(r); }));
  auto listed = st().list_runs({});
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1U);
  EXPECT_EQ(listed->front().trace_parent, parent);
  EXPECT_EQ(listed->front().status, run_status::completed);
}

TEST_P(runs_conformance, duplicate_run_id_is_refused) {
  auto id = make_run();
  run_record r;
  r.id = id;
  r.created_at = clock_.now();
  auto again = st().transact([&](store::transaction& tx) { return tx.insert_run(r); });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, errc::already_exists);
}

TEST_P(runs_conformance, idempotency_key_is_unique_per_owner) {
  auto insert = [&](const std::string& owner) {
    run_record r;
    r.id = new_id("run", clock_.now());
    r.owner_key_id = owner;
    r.idempotency_key = "same";
    r.created_at = clock_.now();
    return st().transact([&](store::transaction& tx) { return tx.insert_run(r); });
  };
  EXPECT_TRUE(insert("key_a"));
  EXPECT_TRUE(insert("key_b"));
  auto dup = insert("key_a");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, errc::already_exists);
}

TEST_P(runs_conformance, run_is_found_by_owner_and_idempotency_key) {
  auto insert = [&](const std::string& owner, std::optional<std::string> key) {
    run_record r;
    r.id = new_id("run", clock_.now());
    r.input = "task of " + owner;
    r.owner_key_id = owner;
    r.idempotency_key = std::move(key);
    r.request_hash = "hash-" + owner;
    r.created_at = clock_.now();
    EXPECT_TRUE(st().transact([&](store::transaction& tx) { return tx.insert_run(r); }));
    return r.id;
  };
  const auto a = insert("key_a", "k1");
  const auto b = insert("key_b", "k1");
  insert("key_a", std::nullopt);

  auto found = st().find_run_by_idempotency_key("key_a", "k1");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, a);
  EXPECT_EQ((*found)->request_hash, "hash-key_a");
  EXPECT_EQ((*found)->idempotency_key, "k1");
  auto other = st().find_run_by_idempotency_key("key_b", "k1");
  ASSERT_TRUE(other && *other);
  EXPECT_EQ((*other)->id, b);

  EXPECT_FALSE(*st().find_run_by_idempotency_key("key_a", "k2"));
  EXPECT_FALSE(*st().find_run_by_idempotency_key("key_c", "k1"));
  EXPECT_FALSE(*st().find_run_by_idempotency_key("key_a", ""));
}

TEST_P(runs_conformance, update_run_changes_status_answer_and_usage) {
  auto id = make_run();
  auto r = **st().get_run(id);
  r.status = run_status::completed;
  r.answer = "4";
  r.started_at = clock_.now();
  r.finished_at = clock_.now() + 2s;
  r.tokens_in = 10;
  r.tokens_out = 20;
  r.cost = 0.5;
  ASSERT_TRUE(st().transact([&](store::transaction& tx) { return tx.update_run(r); }));
  auto got = **st().get_run(id);
  EXPECT_EQ(got.status, run_status::completed);
  EXPECT_EQ(got.answer, "4");
  EXPECT_EQ(got.finished_at, clock_.now() + 2s);
  EXPECT_EQ(got.tokens_out, 20);
  EXPECT_DOUBLE_EQ(got.cost, 0.5);

  r.id = "run_missing";
  auto missing = st().transact([&](store::transaction& tx) { return tx.update_run(r); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);
}

TEST_P(runs_conformance, events_get_gapless_sequences_per_run) {
  auto a = make_run();
  auto b = make_run();
  EXPECT_EQ(*append(a, "run.created"), 1);
  EXPECT_EQ(*append(a, "plan.created"), 2);
  EXPECT_EQ(*append(b, "run.created"), 1);
  EXPECT_EQ(*append(a, "run.completed"), 3);
  auto events = st().events_after(a, 0, 100);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 3U);
  EXPECT_EQ((*events)[1].type, "plan.created");
  EXPECT_EQ((*events)[1].seq, 2);
  EXPECT_EQ((*events)[1].body_json, R"({"k":1})");
  auto tail = st().events_after(a, 2, 100);
  ASSERT_EQ(tail->size(), 1U);
  EXPECT_EQ((*tail)[0].seq, 3);
  EXPECT_EQ((**st().get_run(a)).last_seq, 3);
}

TEST_P(runs_conformance, rolled_back_event_does_not_consume_a_sequence_number) {
  auto id = make_run();
  EXPECT_EQ(*append(id, "run.created"), 1);
  auto failed = st().transact([&](store::transaction& tx) -> result<void> {
    auto s = tx.append_event({.run_id = id, .type = "step.started", .ts = tx.now()});
    if (!s) return tl::unexpected(s.error());
    return fail(errc::io, "the state change failed");
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(*append(id, "step.started"), 2);
}

TEST_P(runs_conformance, event_for_an_unknown_run_is_refused) {
  auto r = append("run_missing", "run.created");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::not_found);
}

TEST_P(runs_conformance, concurrent_appends_stay_gapless) {
  auto id = make_run();
  constexpr int k_threads = 4;
  constexpr int k_each = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < k_each; ++i) EXPECT_TRUE(append(id, "tool.result"));
    });
  }
  for (auto& t : threads) t.join();
  auto events = st().events_after(id, 0, 10'000);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), static_cast<std::size_t>(k_threads * k_each));
  for (std::size_t i = 0; i < events->size(); ++i)
    EXPECT_EQ((*events)[i].seq, static_cast<std::int64_t>(i + 1));
}

// Concurrent writers whose transactions fail or throw now and then: each failure undoes
// only its own transaction (backends may commit concurrent transactions together).
TEST_P(runs_conformance, concurrent_failures_undo_only_their_own_transaction) {
  auto id = make_run();
  constexpr int k_threads = 6;
  constexpr int k_each = 30;
  std::atomic<int> succeeded{0};
  std::atomic<int> thrown{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < k_each; ++i) {
        const int kind = (t + i) % 3;  // 0: commits, 1: fails, 2: throws
        try {
          auto r = st().transact([&](store::transaction& tx) -> result<void> {
            auto s = tx.append_event({.run_id = id, .type = "tool.result", .ts = tx.now()});
            if (!s) return tl::unexpected(s.error());
            if (kind == 1) return fail(errc::io, "this one fails");
            if (kind == 2) throw std::runtime_error("this one throws");
            return {};
          });
          if (kind == 0) {
            EXPECT_TRUE(r) << describe(r.error());
            ++succeeded;
          } else {
            EXPECT_FALSE(r);
            EXPECT_EQ(r.error().code, errc::io);
          }
        } catch (const std::runtime_error& e) {
          EXPECT_EQ(kind, 2);
          EXPECT_STREQ(e.what(), "this one throws");
          ++thrown;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(thrown.load(), k_threads * k_each / 3);
  auto events = st().events_after(id, 0, 10'000);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), static_cast<std::size_t>(succeeded.load()));
  for (std::size_t i = 0; i < events->size(); ++i)
    EXPECT_EQ((*events)[i].seq, static_cast<std::int64_t>(i + 1));
  EXPECT_EQ((**st().get_run(id)).last_seq, succeeded.load());
}

// The feed of this process's commits is delivered as each transaction commits, on both
// backends.
TEST_P(runs_conformance, local_event_feed_delivers_committed_events_in_commit_order) {
  auto id = make_run();
  std::mutex mutex;
  std::vector<std::int64_t> seen;
  std::vector<std::string> types;
  {
    store::feed_subscription feed(st().local_events_feed(), [&](const auto& events) {
      std::lock_guard lock(mutex);
      for (const auto& e : events) {
        EXPECT_EQ(e.run_id, id);
        seen.push_back(e.seq);
        types.push_back(e.type);
      }
    });
    // Two events in one transaction arrive together, with their sequence numbers.
    ASSERT_TRUE(st().transact([&](store::transaction& tx) -> result<void> {
      for (const char* type : {"run.created", "step.started"}) {
        auto s = tx.append_event({.run_id = id, .type = type, .ts = tx.now()});
        if (!s) return tl::unexpected(s.error());
      }
      return {};
    }));
    // A rolled-back event is never delivered.
    ASSERT_FALSE(st().transact([&](store::transaction& tx) -> result<void> {
      auto s = tx.append_event({.run_id = id, .type = "step.failed", .ts = tx.now()});
      if (!s) return tl::unexpected(s.error());
      return fail(errc::io, "the state change failed");
    }));
    // Concurrent writers: every event once, in sequence order.
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 25; ++i) EXPECT_TRUE(append(id, "tool.result"));
      });
    }
    for (auto& t : threads) t.join();
  }
  // Unsubscribed: nothing more arrives.
  ASSERT_TRUE(append(id, "run.completed"));
  std::lock_guard lock(mutex);
  ASSERT_EQ(seen.size(), 102U);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i], static_cast<std::int64_t>(i + 1));
  }
  EXPECT_EQ(types[0], "run.created");
  EXPECT_EQ(types[1], "step.started");
  EXPECT_EQ(types[2], "tool.result");
}

// The feed of every commit (on PostgreSQL, other processes' too, delivered by the LISTEN
// thread after the commit): every committed event once, in seq order, none rolled back.
TEST_P(runs_conformance, event_feed_delivers_every_committed_event_in_order) {
  auto id = make_run();
  std::mutex mutex;
  std::condition_variable arrived;
  std::vector<std::int64_t> seen;
  std::vector<std::string> types;
  store::feed_subscription feed(st().events_feed(), [&](const auto& events) {
    std::lock_guard lock(mutex);
    for (const auto& e : events) {
      if (e.run_id != id) continue;
      seen.push_back(e.seq);
      types.push_back(e.type);
    }
    arrived.notify_all();
  });
  ASSERT_TRUE(append(id, "run.created"));
  ASSERT_FALSE(st().transact([&](store::transaction& tx) -> result<void> {
    auto s = tx.append_event({.run_id = id, .type = "step.failed", .ts = tx.now()});
    if (!s) return tl::unexpected(s.error());
    return fail(errc::io, "the state change failed");
  }));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) EXPECT_TRUE(append(id, "tool.result"));
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(append(id, "run.completed"));
  std::unique_lock lock(mutex);
  // Waits for the delivery itself (immediate on SQLite); the bound only stops a broken
  // backend from hanging the suite.
  arrived.wait_for(lock, std::chrono::seconds(30), [&] { return seen.size() >= 102U; });
  ASSERT_EQ(seen.size(), 102U);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i], static_cast<std::int64_t>(i + 1));
  }
  EXPECT_EQ(types.front(), "run.created");
  EXPECT_EQ(types.back(), "run.completed");
}

TEST_P(runs_conformance, api_keys_insert_find_list_and_revoke) {
  store::api_key_record k;
  k.id = new_id("key", clock_.now());
  k.name = "ci";
  k.scope = "runs";
  k.prefix = "grok_0123456";
  k.hash = std::string(64, 'a');
  k.created_at = clock_.now();
  auto insert = [&](const store::api_key_record& r) {
    return st().transact([&](store::transaction& tx) { return tx.insert_api_key(r); });
  };
  ASSERT_TRUE(insert(k));
  // The same id, or another key with the same hash, is refused.
  EXPECT_EQ(insert(k).error().code, errc::already_exists);
  auto same_hash = k;
  same_hash.id = new_id("key", clock_.now());
  EXPECT_EQ(insert(same_hash).error().code, errc::already_exists);
  // Bad values are refused before the database sees them.
  for (auto bad : {std::string("root"), std::string("")}) {
    auto b = k;
    b.id = new_id("key", clock_.now());
    b.hash = std::string(64, 'b');
    b.scope = bad;
    EXPECT_EQ(insert(b).error().code, errc::invalid_argument) << bad;
  }
  auto unnamed = k;
  unnamed.id = new_id("key", clock_.now());
  unnamed.hash = std::string(64, 'c');
  unnamed.name = "";
  EXPECT_EQ(insert(unnamed).error().code, errc::invalid_argument);
  unnamed.name = std::string(201, 'n');
  EXPECT_EQ(insert(unnamed).error().code, errc::invalid_argument);

  auto found = st().find_api_key(k.hash);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, k.id);
  EXPECT_EQ((*found)->scope, "runs");
  EXPECT_FALSE((*found)->revoked_at);
  EXPECT_FALSE(*st().find_api_key(std::string(64, 'f')));

  auto revoke = [&](const std::string& id) {
    return st().transact([&](store::transaction& tx) { return tx.revoke_api_key(id); });
  };
  ASSERT_TRUE(revoke(k.id));
  const auto revoked_at = (*st().find_api_key(k.hash))->revoked_at;
  ASSERT_TRUE(revoked_at);
  clock_.advance(millis(5000));
  ASSERT_TRUE(revoke(k.id));  // again: the first time stands
  EXPECT_EQ((*st().find_api_key(k.hash))->revoked_at, revoked_at);
  EXPECT_EQ(revoke("key_missing").error().code, errc::not_found);

  auto all = st().list_api_keys();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1U);
  EXPECT_EQ((*all)[0].hash, k.hash);
}

TEST_P(runs_conformance, steps_upsert_and_list_in_creation_order) {
  auto run = make_run();
  store::step_record s1{.id = new_id("step", clock_.now()), .run_id = run, .name = "planner"};
  store::step_record s2{.id = new_id("step", clock_.now()),
                        .run_id = run,
                        .name = "worker.E1",
                        .tool = "calculator",
                        .args_json = R"({"expression":"2+2"})"};
  ASSERT_TRUE(st().transact([&](store::transaction& tx) -> result<void> {
    if (auto r = tx.upsert_step(s1); !r) return r;
    return tx.upsert_step(s2);
  }));
  s2.status = "completed";
  s2.output = "4";
  s2.attempts = 1;
  s2.latency_ms = 12;
  ASSERT_TRUE(st().transact([&](store::transaction& tx) { return tx.upsert_step(s2); }));
  auto steps = st().list_steps(run);
  ASSERT_TRUE(steps);
  ASSERT_EQ(steps->size(), 2U);
  EXPECT_EQ((*steps)[0].name, "planner");
  EXPECT_EQ((*steps)[1].status, "completed");
  EXPECT_EQ((*steps)[1].output, "4");
  EXPECT_EQ((*steps)[1].tool, "calculator");
  EXPECT_EQ((*steps)[1].latency_ms, 12);
}

TEST_P(runs_conformance, step_of_an_unknown_run_is_refused) {
  store::step_record s{
      .id = new_id("step", clock_.now()), .run_id = "run_missing", .name = "planner"};
  auto r = st().transact([&](store::transaction& tx) { return tx.upsert_step(s); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::not_found);
}

TEST_P(runs_conformance, list_runs_is_newest_first_with_filters_and_cursor) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(make_run(i % 2 == 0 ? run_status::queued : run_status::completed, "key_a"));
    clock_.advance(1ms);
  }
  make_run(run_status::queued, "key_b");
  auto page = st().list_runs({.owner_key_id = "key_a", .limit = 2});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2U);
  EXPECT_EQ((*page)[0].id, ids[4]);
  EXPECT_EQ((*page)[1].id, ids[3]);
  auto next = st().list_runs({.owner_key_id = "key_a", .before_id = page->back().id, .limit = 10});
  ASSERT_EQ(next->size(), 3U);
  EXPECT_EQ((*next)[2].id, ids[0]);
  auto done = st().list_runs({.status = run_status::completed});
  ASSERT_EQ(done->size(), 2U);
  EXPECT_EQ(st().list_runs({})->size(), 6U);
}

TEST_P(runs_conformance, artifacts_are_stored_once_by_id) {
  auto run = make_run();
  store::artifact_record a{.id = new_id("art", clock_.now()),
                           .kind = "tool_output",
                           .uri = "file:///x",
                           .sha256 = std::string(64, 'a'),
                           .size = 123,
                           .run_id = run,
                           .created_at = clock_.now()};
  ASSERT_TRUE(st().transact([&](store::transaction& tx) { return tx.put_artifact(a); }));
  auto got = st().get_artifact(a.id);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->size, 123);
  EXPECT_EQ((*got)->run_id, run);
  auto dup = st().transact([&](store::transaction& tx) { return tx.put_artifact(a); });
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, errc::already_exists);
  a.id = new_id("art", clock_.now());
  a.run_id = "run_missing";
  auto orphan = st().transact([&](store::transaction& tx) { return tx.put_artifact(a); });
  ASSERT_FALSE(orphan);
  EXPECT_EQ(orphan.error().code, errc::not_found);
}

TEST_P(runs_conformance, model_calls_are_recorded_and_found_by_request_hash) {
  auto run = make_run();
  auto record = [&](const std::string& hash, const std::string& status,
                    std::optional<std::string> run_id) {
    store::llm_call_record c;
    c.id = new_id("llm", clock_.now());
    c.run_id = std::move(run_id);
    c.role = "planner";
    c.provider = "openai";
    c.model = "m";
    c.request_hash = hash;
    c.request_json = R"({"model":"m"})";
    if (status == "ok") {
      c.response_json = R"({"content":")" + c.id + R"("})";
      c.tokens_in = 10;
    } else {
      c.error = "timeout";
    }
    c.status = status;
    c.latency_ms = 42;
    c.created_at = clock_.now();
    clock_.advance(1ms);
    auto ok = st().transact([&](store::transaction& tx) { return tx.record_llm_call(c); });
    EXPECT_TRUE(ok) << (ok ? "" : describe(ok.error()));
    return c;
  };
  record("h1", "ok", run);
  auto newer = record("h1", "ok", run);
  record("h1", "error", run);  // a later failure does not hide the successful answer
  auto other_run = record("h2", "ok", std::nullopt);

  auto found = st().find_llm_call("h1", std::nullopt);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, newer.id);
  EXPECT_EQ((*found)->tokens_in, 10);
  EXPECT_FALSE((*found)->tokens_out);
  EXPECT_EQ((*found)->latency_ms, 42);
  EXPECT_FALSE(*st().find_llm_call("h2", std::string_view(run)));
  EXPECT_EQ((**st().find_llm_call("h2", std::nullopt)).id, other_run.id);
  EXPECT_FALSE(*st().find_llm_call("nope", std::nullopt));
  auto calls = st().list_llm_calls(run);
  ASSERT_TRUE(calls);
  ASSERT_EQ(calls->size(), 3U);
  EXPECT_EQ((*calls)[2].status, "error");
  EXPECT_EQ((*calls)[2].error, "timeout");

  store::llm_call_record orphan = newer;
  orphan.id = new_id("llm", clock_.now());
  orphan.run_id = "run_missing";
  auto r = st().transact([&](store::transaction& tx) { return tx.record_llm_call(orphan); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::not_found);
}

INSTANTIATE_TEST_SUITE_P(backends, runs_conformance, ::testing::ValuesIn(all_store_backends()),
                         backend_name);

}  // namespace
}  // namespace grok::testing
