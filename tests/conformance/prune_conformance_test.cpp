// Retention: what prune_runs, prune_jobs and count_prunable must do on every backend, on a
// clock the test controls.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "conformance/store_backends.h"
#include "core/ids.h"
#include "store/retention.h"

namespace grok::testing {
namespace {

using store::job_state;
using store::prune_counts;
using store::run_status;
using namespace std::chrono_literals;

constexpr auto k_day = std::chrono::hours(24);

// The rows a run was given, to count them afterwards.
struct run_rows {
  std::string id;
  int steps = 0;
  int events = 0;
  int llm_calls = 0;
  int artifacts = 0;
};

class prune_conformance : public store_conformance {
 protected:
  // A run created now with two steps (one with an artifact), `events` events and two model
  // calls; when `status` is terminal it ends `ran_for` after its creation.
  run_rows make_run(run_status status, int events = 3, millis ran_for = 1min) {
    run_rows rows;
    rows.id = new_id("run", clock_.now());
    store::run_record r;
    r.id = rows.id;
    r.status = status;
    r.input = "task";
    r.created_at = clock_.now();
    if (store::is_terminal(status)) r.finished_at = clock_.now() + ran_for;
    auto ok = st().transact([&](store::transaction& tx) -> result<void> {
      if (auto e = tx.insert_run(r); !e) return e;
      const std::string art = new_id("art", clock_.now());
      if (auto e = tx.put_artifact({.id = art,
                                    .kind = "tool_output",
                                    .uri = "artifacts/" + art,
                                    .sha256 = std::string(64, 'a'),
                                    .size = 10,
                                    .run_id = rows.id,
                                    .created_at = clock_.now()});
          !e) {
        return e;
      }
      ++rows.artifacts;
      for (int i = 0; i < 2; ++i) {
        store::step_record s;
        s.id = new_id("step", clock_.now());
        s.run_id = rows.id;
        s.name = "worker.E" + std::to_string(i + 1);
        s.status = "completed";
        if (i == 0) s.output_artifact_id = art;
        if (auto e = tx.upsert_step(s); !e) return e;
        ++rows.steps;
        store::llm_call_record call;
        call.id = new_id("llm", clock_.now());
        call.run_id = rows.id;
        call.step_id = s.id;
        call.role = "planner";
        call.provider = "openai";
        call.model = "m";
        call.request_hash = "h" + std::to_string(i);
        call.request_json = "{}";
        call.response_json = "{}";
        call.created_at = clock_.now();
        if (auto e = tx.record_llm_call(call); !e) return e;
        ++rows.llm_calls;
      }
      for (int i = 0; i < events; ++i) {
        auto seq = tx.append_event({.run_id = rows.id, .type = "step.completed", .ts = tx.now()});
        if (!seq) return tl::unexpected(seq.error());
        ++rows.events;
      }
      return {};
    });
    EXPECT_TRUE(ok) << (ok ? "" : describe(ok.error()));
    return rows;
  }

  // Everything recorded about the run is still there.
  void expect_intact(const run_rows& rows) {
    auto run = st().get_run(rows.id);
    ASSERT_TRUE(run && *run) << rows.id;
    EXPECT_EQ(st().list_steps(rows.id)->size(), static_cast<std::size_t>(rows.steps));
    EXPECT_EQ(st().events_after(rows.id, 0, 1000)->size(), static_cast<std::size_t>(rows.events));
    EXPECT_EQ(st().list_llm_calls(rows.id)->size(), static_cast<std::size_t>(rows.llm_calls));
  }
  // Nothing recorded about the run is left.
  void expect_gone(const run_rows& rows) {
    auto run = st().get_run(rows.id);
    ASSERT_TRUE(run);
    EXPECT_FALSE(*run) << rows.id;
    EXPECT_TRUE(st().list_steps(rows.id)->empty());
    EXPECT_TRUE(st().events_after(rows.id, 0, 1000)->empty());
    EXPECT_TRUE(st().list_llm_calls(rows.id)->empty());
  }

  result<prune_counts> prune(time_point cutoff, int batch = 100, bool dry_run = false) {
    return store::prune_store(st(), {.cutoff = cutoff, .batch_size = batch, .dry_run = dry_run});
  }

  store::job_id add_job(const std::string& payload, std::optional<std::string> dedupe = {}) {
    auto r = st().enqueue({.topic = "t", .payload = payload, .dedupe_key = std::move(dedupe)});
    EXPECT_TRUE(r);
    return r ? r->id : 0;
  }
  // Claims the job (the only visible one) and acks it, or dead-letters it.
  void finish_job(store::job_id id, bool dead) {
    auto jobs = st().claim({{"t"}, "w", 30s, 1});
    ASSERT_TRUE(jobs && jobs->size() == 1U);
    ASSERT_EQ((*jobs)[0].id, id);
    if (dead) {
      ASSERT_TRUE(st().nack({(*jobs)[0].held_lease(), "boom", 0ms, true}));
    } else {
      ASSERT_TRUE(st().ack((*jobs)[0].held_lease()));
    }
  }
  bool job_exists(store::job_id id) {
    auto j = st().get_job(id);
    EXPECT_TRUE(j);
    return j && j->has_value();
  }
};

TEST_P(prune_conformance, old_finished_runs_go_with_all_their_rows_and_nothing_else_does) {
  const auto start = clock_.now();
  std::vector<run_rows> old_done;
  for (auto s : {run_status::completed, run_status::failed, run_status::cancelled}) {
    old_done.push_back(make_run(s, 4));
  }
  // Old, but not over: never pruned, whatever their age.
  std::vector<run_rows> live;
  for (auto s : {run_status::queued, run_status::running, run_status::awaiting_input}) {
    live.push_back(make_run(s, 2));
  }
  // Created long ago but ended only recently.
  auto late = make_run(run_status::completed, 2, 9 * k_day);
  clock_.advance(10 * k_day);
  auto recent = make_run(run_status::completed, 5);

  const auto cutoff = start + 2 * k_day;
  auto counted = st().count_prunable(cutoff);
  ASSERT_TRUE(counted) << describe(counted.error());
  auto pruned = prune(cutoff);
  ASSERT_TRUE(pruned) << describe(pruned.error());
  prune_counts expected;
  for (const auto& r : old_done) {
    expected.runs += 1;
    expected.steps += r.steps;
    expected.events += r.events;
    expected.llm_calls += r.llm_calls;
    expected.artifacts += r.artifacts;
  }
  EXPECT_EQ(pruned->runs, expected.runs);
  EXPECT_EQ(pruned->steps, expected.steps);
  EXPECT_EQ(pruned->events, expected.events);
  EXPECT_EQ(pruned->llm_calls, expected.llm_calls);
  EXPECT_EQ(pruned->artifacts, expected.artifacts);
  EXPECT_EQ(*counted, *pruned) << "the dry-run count is what the prune then deletes";

  for (const auto& r : old_done) expect_gone(r);
  for (const auto& r : live) expect_intact(r);
  expect_intact(late);
  expect_intact(recent);

  // Later, with every run old enough: the live ones still stay.
  clock_.advance(365 * k_day);
  pruned = prune(clock_.now());
  ASSERT_TRUE(pruned);
  EXPECT_EQ(pruned->runs, 2);
  for (const auto& r : live) expect_intact(r);
  expect_gone(late);
  expect_gone(recent);
}

TEST_P(prune_conformance, a_run_that_ended_exactly_at_the_cutoff_stays) {
  auto r = make_run(run_status::completed, 1, 0ms);
  const auto ended = clock_.now();
  ASSERT_TRUE(prune(ended));
  expect_intact(r);
  ASSERT_TRUE(prune(ended + 1ms));
  expect_gone(r);
}

TEST_P(prune_conformance, each_batch_deletes_at_most_the_batch_size) {
  std::set<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    ids.insert(make_run(run_status::completed, 1).id);
    clock_.advance(1s);
  }
  clock_.advance(k_day);
  const auto cutoff = clock_.now();
  std::vector<std::int64_t> batches;
  for (int i = 0; i < 5; ++i) {
    auto batch = st().prune_runs(cutoff, 3);
    ASSERT_TRUE(batch) << describe(batch.error());
    batches.push_back(batch->removed.runs);
    if (batch->removed.runs < 3) break;
  }
  EXPECT_EQ(batches, (std::vector<std::int64_t>{3, 3, 3, 1}));

  // prune_store reports each batch, never more than the batch size apart.
  for (int i = 0; i < 7; ++i) make_run(run_status::failed, 1);
  clock_.advance(k_day);
  std::vector<std::int64_t> seen;
  auto total = store::prune_store(
      st(), {.cutoff = clock_.now(),
             .batch_size = 2,
             .on_progress = [&](const prune_counts& so_far) { seen.push_back(so_far.runs); }});
  ASSERT_TRUE(total);
  EXPECT_EQ(total->runs, 7);
  ASSERT_FALSE(seen.empty());
  std::int64_t before = 0;
  for (auto n : seen) {
    EXPECT_LE(n - before, 2);
    before = n;
  }
  EXPECT_EQ(seen.back(), 7);

  EXPECT_EQ(st().prune_runs(cutoff, 0).error().code, errc::invalid_argument);
  EXPECT_EQ(prune(cutoff, 0).error().code, errc::invalid_argument);
}

TEST_P(prune_conformance, a_dry_run_counts_and_deletes_nothing) {
  auto a = make_run(run_status::completed, 6);
  auto b = make_run(run_status::cancelled, 1);
  auto live = make_run(run_status::awaiting_input, 1);
  auto job = add_job(R"({"run_id":")" + a.id + R"("})");
  finish_job(job, false);
  add_job("{}");  // the newest job, which stays anyway
  clock_.advance(k_day);

  auto counted = prune(clock_.now(), 100, /*dry_run=*/true);
  ASSERT_TRUE(counted) << describe(counted.error());
  EXPECT_EQ(counted->runs, 2);
  EXPECT_EQ(counted->events, a.events + b.events);
  EXPECT_EQ(counted->steps, a.steps + b.steps);
  EXPECT_EQ(counted->llm_calls, a.llm_calls + b.llm_calls);
  EXPECT_EQ(counted->artifacts, a.artifacts + b.artifacts);
  EXPECT_EQ(counted->jobs, 1);
  expect_intact(a);
  expect_intact(b);
  expect_intact(live);
  EXPECT_TRUE(job_exists(job));

  auto pruned = prune(clock_.now());
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, *counted);
  EXPECT_FALSE(job_exists(job));
}

TEST_P(prune_conformance, finished_jobs_go_only_when_nobody_needs_them) {
  auto gone = make_run(run_status::completed);
  auto waiting = make_run(run_status::awaiting_input);
  const auto of = [](const run_rows& r) { return R"({"run_id":")" + r.id + R"("})"; };

  std::map<std::string, store::job_id> jobs;
  const auto finished = [&](const std::string& name, const std::string& payload, bool dead,
                            std::optional<std::string> dedupe = {}) {
    jobs[name] = add_job(payload, std::move(dedupe));
    finish_job(jobs[name], dead);
  };
  finished("done of a pruned run", of(gone), false);
  finished("dead of a pruned run", of(gone), true);
  finished("done of a waiting run", of(waiting), false);
  finished("dead of a waiting run", of(waiting), true);
  finished("done of a run never stored", R"({"run_id":"run_unknown"})", false);
  finished("done without a run", R"({"doc":"x"})", false);
  finished("done, not JSON", "not json at all", false);
  finished("done without a run, deduped", "{}", false, "once-only");
  finished("dead without a run", "{}", true);
  clock_.advance(k_day);
  const auto cutoff = clock_.now();
  finished("done at the cutoff", of(gone), false);
  jobs["ready"] = add_job(of(gone));
  jobs["newest"] = add_job("{}");

  auto pruned = prune(cutoff);
  ASSERT_TRUE(pruned) << describe(pruned.error());
  EXPECT_EQ(pruned->runs, 1);
  const std::set<std::string> expected_gone = {"done of a pruned run", "dead of a pruned run",
                                               "done of a run never stored", "done without a run",
                                               "done, not JSON"};
  EXPECT_EQ(pruned->jobs, static_cast<std::int64_t>(expected_gone.size()));
  for (const auto& [name, id] : jobs) {
    EXPECT_EQ(job_exists(id), expected_gone.count(name) == 0) << name;
  }
  // The dedupe key still holds: enqueueing it again finds the first job.
  auto again = st().enqueue({.topic = "t", .payload = "{}", .dedupe_key = "once-only"});
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->id, jobs["done without a run, deduped"]);
}

TEST_P(prune_conformance, the_newest_job_is_kept_so_that_ids_are_never_reused) {
  auto only = add_job("{}");
  finish_job(only, false);
  clock_.advance(k_day);
  auto pruned = prune(clock_.now());
  ASSERT_TRUE(pruned);
  EXPECT_EQ(pruned->jobs, 0);
  EXPECT_TRUE(job_exists(only));
  auto next = add_job("{}");
  EXPECT_GT(next, only);
}

TEST_P(prune_conformance, job_batches_cover_every_job_past_the_window) {
  std::vector<store::job_id> ids;
  for (int i = 0; i < 25; ++i) {
    ids.push_back(add_job("{}"));
    finish_job(ids.back(), false);
  }
  add_job("{}");
  clock_.advance(k_day);
  // Walk the queue as prune_store does, 10 jobs a window.
  store::job_id after = 0;
  std::int64_t deleted = 0;
  int batches = 0;
  while (true) {
    auto batch = st().prune_jobs(clock_.now(), after, 10);
    ASSERT_TRUE(batch) << describe(batch.error());
    EXPECT_LE(batch->deleted, 10);
    EXPECT_GE(batch->scanned_to, after);
    deleted += batch->deleted;
    after = batch->scanned_to;
    ++batches;
    if (batch->finished) break;
    ASSERT_LT(batches, 10);
  }
  EXPECT_EQ(deleted, 25);
  for (auto id : ids) EXPECT_FALSE(job_exists(id));
}

TEST_P(prune_conformance, an_artifact_another_run_still_uses_outlives_its_run) {
  auto old = make_run(run_status::completed);
  auto artifacts = st().list_steps(old.id);
  ASSERT_TRUE(artifacts);
  std::string shared;
  for (const auto& s : *artifacts) {
    if (s.output_artifact_id) shared = *s.output_artifact_id;
  }
  ASSERT_FALSE(shared.empty());
  clock_.advance(k_day);
  auto user = make_run(run_status::running);
  ASSERT_TRUE(st().transact([&](store::transaction& tx) {
    store::step_record s;
    s.id = new_id("step", clock_.now());
    s.run_id = user.id;
    s.name = "worker.E9";
    s.output_artifact_id = shared;
    return tx.upsert_step(s);
  }));
  auto batch = st().prune_runs(clock_.now(), 10);
  ASSERT_TRUE(batch) << describe(batch.error());
  EXPECT_EQ(batch->removed.runs, 1);
  EXPECT_EQ(batch->removed.artifacts, 0);
  EXPECT_TRUE(batch->orphaned_uris.empty());
  auto kept = st().get_artifact(shared);
  ASSERT_TRUE(kept && *kept);
  EXPECT_FALSE((*kept)->run_id);
  expect_gone(old);
}

TEST_P(prune_conformance, orphaned_artifact_uris_are_reported_once_no_row_names_them) {
  make_run(run_status::completed);
  clock_.advance(k_day);
  auto batch = st().prune_runs(clock_.now(), 10);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->orphaned_uris.size(), 1U);
  EXPECT_EQ(batch->orphaned_uris[0].rfind("artifacts/art_", 0), 0U);
}

INSTANTIATE_TEST_SUITE_P(backends, prune_conformance, ::testing::ValuesIn(all_store_backends()),
                         backend_name);

}  // namespace
}  // namespace grok::testing
