// Concurrent writers on one database: claims never overlap, event sequences stay gapless,
// unique keys hold under races. On SQLite the threads share the one store object of the
// process (it serializes the file's writers itself); on PostgreSQL half of them go through
// a second store on the same database, as another API or worker process would.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "conformance/store_backends.h"
#include "core/ids.h"

namespace grok::testing {
namespace {

using namespace std::chrono_literals;

constexpr int k_threads = 4;

class concurrency_conformance : public ::testing::TestWithParam<store_backend> {
 protected:
  void SetUp() override {
    url_ = GetParam().fresh_url(dir_);
    first_ = open_store_or_fail(url_, clock_);
    ASSERT_TRUE(first_);
    if (GetParam().name != "sqlite") {
      second_ = open_store_or_fail(url_, clock_);
      ASSERT_TRUE(second_);
    }
  }
  // The store thread `t` writes through: the second store for odd threads, when there is one.
  store::store& store_of(int t) { return (t % 2 == 1 && second_) ? *second_ : *first_; }

  // Runs `body(t)` on k_threads threads at once and waits for all of them.
  template <class Body>
  void run_threads(Body body) {
    std::vector<std::thread> threads;
    for (int t = 0; t < k_threads; ++t) threads.emplace_back([&body, t] { body(t); });
    for (auto& th : threads) th.join();
  }

  temp_dir dir_;
  manual_clock clock_;
  std::string url_;
  std::unique_ptr<store::store> first_;
  std::unique_ptr<store::store> second_;
};

TEST_P(concurrency_conformance, concurrent_workers_claim_disjoint_jobs_and_ack_each_once) {
  constexpr int k_jobs = 200;
  std::set<store::job_id> enqueued;
  ASSERT_TRUE(first_->transact([&](store::transaction& tx) -> result<void> {
    for (int i = 0; i < k_jobs; ++i) {
      auto r = tx.enqueue({.topic = "c", .payload = std::to_string(i)});
      if (!r) return tl::unexpected(r.error());
      enqueued.insert(r->id);
    }
    return {};
  }));

  std::mutex mutex;
  std::map<store::job_id, int> holders;  // guarded by mutex: job → worker holding it now
  std::map<store::job_id, int> acks;     // guarded by mutex: job → successful acks
  run_threads([&](int t) {
    auto& st = store_of(t);
    const std::string worker = "w" + std::to_string(t);
    // Different batch sizes, so that claims of different widths interleave.
    const int batch = 1 + t;
    while (true) {
      auto claimed =
          st.claim({.topics = {"c"}, .worker_id = worker, .lease_for = 60s, .limit = batch});
      ASSERT_TRUE(claimed) << describe(claimed.error());
      // The clock never moves, so no lease runs out: an empty claim means every job was
      // taken by someone.
      if (claimed->empty()) return;
      for (const auto& j : *claimed) {
        std::lock_guard lock(mutex);
        const auto [it, fresh] = holders.emplace(j.id, t);
        EXPECT_TRUE(fresh) << "job " << j.id << " claimed by w" << t << " while w" << it->second
                           << " holds it";
        EXPECT_EQ(j.locked_by, worker);
        EXPECT_EQ(j.attempts, 1);
      }
      for (const auto& j : *claimed) {
        auto acked = st.ack(j.held_lease());
        EXPECT_TRUE(acked) << describe(acked.error());
        std::lock_guard lock(mutex);
        if (acked) ++acks[j.id];
        holders.erase(j.id);
      }
    }
  });

  ASSERT_EQ(acks.size(), enqueued.size());
  for (const auto& [id, n] : acks) {
    EXPECT_TRUE(enqueued.count(id)) << id;
    EXPECT_EQ(n, 1) << "job " << id;
  }
  auto done = first_->list_jobs({.state = store::job_state::done, .limit = 1000});
  ASSERT_TRUE(done);
  ASSERT_EQ(done->size(), static_cast<std::size_t>(k_jobs));
  for (const auto& j : *done) EXPECT_EQ(j.lease_seq, 1) << "job " << j.id << " claimed twice";
}

TEST_P(concurrency_conformance, concurrent_appends_to_one_run_get_gapless_unique_seqs) {
  store::run_record run;
  run.id = new_id("run", clock_.now());
  run.input = "concurrent";
  run.created_at = clock_.now();
  ASSERT_TRUE(first_->transact([&](store::transaction& tx) { return tx.insert_run(run); }));

  constexpr int k_transactions = 40;  // per thread; every third appends two events
  std::mutex mutex;
  std::vector<std::int64_t> seqs;  // guarded by mutex: every seq a committed append returned
  run_threads([&](int t) {
    auto& st = store_of(t);
    for (int i = 0; i < k_transactions; ++i) {
      std::vector<std::int64_t> mine;
      auto r = st.transact([&](store::transaction& tx) -> result<void> {
        mine.clear();  // a transaction retried after a deadlock starts over
        for (int e = 0; e < (i % 3 == 0 ? 2 : 1); ++e) {
          auto s = tx.append_event({.run_id = run.id, .type = "tool.result", .ts = tx.now()});
          if (!s) return tl::unexpected(s.error());
          mine.push_back(*s);
        }
        return {};
      });
      ASSERT_TRUE(r) << describe(r.error());
      // Two events of one transaction are consecutive: the run is held while it appends.
      if (mine.size() == 2) {
        EXPECT_EQ(mine[1], mine[0] + 1);
      }
      std::lock_guard lock(mutex);
      seqs.insert(seqs.end(), mine.begin(), mine.end());
    }
  });

  const auto expected = static_cast<std::size_t>(k_threads * (k_transactions + 14));
  std::sort(seqs.begin(), seqs.end());
  ASSERT_EQ(seqs.size(), expected);
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    ASSERT_EQ(seqs[i], static_cast<std::int64_t>(i + 1)) << "gap or duplicate at " << i;
  }
  auto events = first_->events_after(run.id, 0, 10'000);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), expected);
  for (std::size_t i = 0; i < events->size(); ++i) {
    EXPECT_EQ((*events)[i].seq, static_cast<std::int64_t>(i + 1));
  }
  EXPECT_EQ((**first_->get_run(run.id)).last_seq, static_cast<std::int64_t>(expected));
}

TEST_P(concurrency_conformance, racing_inserts_of_one_key_create_exactly_one_row) {
  constexpr int k_rounds = 10;
  for (int round = 0; round < k_rounds; ++round) {
    const std::string key = "k" + std::to_string(round);
    std::mutex mutex;
    std::set<store::job_id> job_ids;  // guarded by mutex
    int jobs_created = 0;             // guarded by mutex
    int runs_created = 0;             // guarded by mutex
    int runs_refused = 0;             // guarded by mutex
    run_threads([&](int t) {
      auto& st = store_of(t);
      auto job = st.enqueue({.topic = "d", .dedupe_key = key});
      ASSERT_TRUE(job) << describe(job.error());
      // The same Idempotency-Key of one API key, from four requests at once.
      store::run_record run;
      run.id = new_id("run", clock_.now());
      run.owner_key_id = "key_a";
      run.idempotency_key = key;
      run.created_at = clock_.now();
      bool refused = false;
      auto committed = st.transact([&](store::transaction& tx) -> result<void> {
        refused = false;
        if (auto r = tx.insert_run(run); !r) {
          if (r.error().code != errc::already_exists) return r;
          // The transaction stays usable after a refused insert (on PostgreSQL: no statement
          // failed inside it), and what it writes next commits.
          refused = true;
          return tx.enqueue({.topic = "refused", .payload = key}).map([](auto&&) {});
        }
        return tx.append_event({.run_id = run.id, .type = "run.created", .ts = tx.now()})
            .map([](std::int64_t) {});
      });
      ASSERT_TRUE(committed) << describe(committed.error());
      std::lock_guard lock(mutex);
      job_ids.insert(job->id);
      if (job->created) ++jobs_created;
      ++(refused ? runs_refused : runs_created);
    });
    EXPECT_EQ(job_ids.size(), 1U) << key;
    EXPECT_EQ(jobs_created, 1) << key;
    EXPECT_EQ(runs_created, 1) << key;
    EXPECT_EQ(runs_refused, k_threads - 1) << key;
    auto found = first_->find_run_by_idempotency_key("key_a", key);
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->last_seq, 1);
  }
  auto refused = first_->list_jobs({.limit = 1000});
  ASSERT_TRUE(refused);
  const auto n = std::count_if(refused->begin(), refused->end(),
                               [](const store::job& j) { return j.topic == "refused"; });
  EXPECT_EQ(n, k_rounds * (k_threads - 1));
}

INSTANTIATE_TEST_SUITE_P(backends, concurrency_conformance,
                         ::testing::ValuesIn(all_store_backends()), backend_name);

}  // namespace
}  // namespace grok::testing
