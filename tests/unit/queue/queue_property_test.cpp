// Random sequences of enqueue / claim / ack / nack / requeue / worker crash / clock advance,
// run against each real store backend (SQLite, PostgreSQL) and against a small reference
// model of the queue semantics (store/queue_types.h). After every operation the two must
// agree exactly.
//
// Properties checked on top of that agreement:
// - no job is lost (every enqueued job is still there, with its payload);
// - no job is held by two unexpired leases at once;
// - a job is dead exactly when it failed max_attempts times (nack or lease expiry) or was
//   failed permanently;
// - a dedupe key never creates a second job.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>

#include "conformance/store_backends.h"
#include "store/open_store.h"
#include "tests_support/pg_server.h"
#include "tests_support/temp_dir.h"

namespace grok::store {
namespace {

using namespace std::chrono_literals;

constexpr millis k_lease = 1000ms;
const std::vector<std::string> k_topics = {"a", "b"};
const std::vector<std::string> k_workers = {"w0", "w1", "w2"};

struct model_job {
  job_id id = 0;
  std::string topic;
  std::string payload;
  std::optional<std::string> dedupe_key;
  job_state state = job_state::ready;
  int attempts = 0;
  int max_attempts = 1;
  time_point visible_after;
  std::optional<std::string> locked_by;
  std::int64_t lease_seq = 0;
  int failures = 0;  // since the last requeue
  bool failed_permanently = false;
};

struct model {
  std::map<job_id, model_job> jobs;
  std::map<std::pair<std::string, std::string>, job_id> dedupe;
  // Leases each worker believes it holds (a crash forgets them).
  std::map<std::string, std::vector<lease>> held;

  std::vector<job_id> claim(const std::vector<std::string>& topics, const std::string& worker,
                            int limit, time_point now) {
    auto wanted = [&](const model_job& j) {
      return std::find(topics.begin(), topics.end(), j.topic) != topics.end();
    };
    for (auto& [id, j] : jobs) {
      if (wanted(j) && j.state == job_state::leased && j.visible_after <= now &&
          j.attempts >= j.max_attempts) {
        j.state = job_state::dead;
        j.locked_by.reset();
        ++j.failures;
      }
    }
    std::vector<model_job*> candidates;
    for (auto& [id, j] : jobs) {
      if (wanted(j) && (j.state == job_state::ready || j.state == job_state::leased) &&
          j.visible_after <= now) {
        candidates.push_back(&j);
      }
    }
    std::sort(candidates.begin(), candidates.end(), [](const model_job* x, const model_job* y) {
      return std::pair(x->visible_after, x->id) < std::pair(y->visible_after, y->id);
    });
    std::vector<job_id> out;
    for (auto* j : candidates) {
      if (static_cast<int>(out.size()) == limit) break;
      if (j->state == job_state::leased) ++j->failures;  // its previous lease expired
      j->state = job_state::leased;
      ++j->attempts;
      ++j->lease_seq;
      j->locked_by = worker;
      j->visible_after = now + k_lease;
      out.push_back(j->id);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  bool holds(const lease& l) const {
    auto it = jobs.find(l.id);
    return it != jobs.end() && it->second.state == job_state::leased &&
           it->second.locked_by == l.worker_id && it->second.lease_seq == l.seq;
  }
};

void check_agreement(store& st, const model& m, time_point now) {
  auto all = st.list_jobs({.limit = 1000});
  RC_ASSERT(all.has_value());
  // No job is lost, none appears from nowhere.
  RC_ASSERT(all->size() == m.jobs.size());
  std::map<std::pair<std::string, std::string>, int> keys;
  for (const auto& j : *all) {
    auto it = m.jobs.find(j.id);
    RC_ASSERT(it != m.jobs.end());
    const auto& e = it->second;
    RC_ASSERT(j.payload == e.payload);
    RC_ASSERT(j.topic == e.topic);
    RC_ASSERT(j.state == e.state);
    RC_ASSERT(j.attempts == e.attempts);
    RC_ASSERT(j.lease_seq == e.lease_seq);
    if (j.state == job_state::ready || j.state == job_state::leased)
      RC_ASSERT(j.visible_after == e.visible_after);
    if (j.state == job_state::leased) RC_ASSERT(j.locked_by == e.locked_by);
    // Dead exactly when it failed max_attempts times, or permanently.
    const bool should_be_dead = e.failed_permanently || e.failures >= e.max_attempts;
    RC_ASSERT((j.state == job_state::dead) == should_be_dead);
    if (j.dedupe_key) {
      const int seen = ++keys[std::pair(j.topic, *j.dedupe_key)];
      RC_ASSERT(seen == 1);
    }
  }
  // No job is held by two unexpired leases.
  std::map<job_id, int> live_holders;
  for (const auto& [worker, leases] : m.held) {
    for (const auto& l : leases) {
      auto j = st.get_job(l.id);
      RC_ASSERT(j && *j);
      const auto& job = **j;
      if (job.state == job_state::leased && job.locked_by == l.worker_id &&
          job.lease_seq == l.seq && job.visible_after > now) {
        RC_ASSERT(++live_holders[l.id] == 1);
      }
    }
  }
}

// One generated case: a random sequence of operations on an empty queue of `st`.
void check_against_the_model(store& st, manual_clock& clock) {
  model m;
  for (const auto& w : k_workers) m.held[w];

  const int steps = *rc::gen::inRange(1, 120);
  for (int step = 0; step < steps; ++step) {
    const auto now = clock.now();
    const int op = *rc::gen::inRange(0, 100);
    if (op < 22) {  // enqueue, sometimes with a dedupe key that may repeat
      job_spec spec;
      spec.topic = k_topics[static_cast<std::size_t>(*rc::gen::inRange(0, 2))];
      spec.payload = "p" + std::to_string(step);
      spec.max_attempts = *rc::gen::inRange(1, 4);
      spec.delay = millis(*rc::gen::element(0, 0, 500, 1500));
      if (*rc::gen::inRange(0, 3) == 0)
        spec.dedupe_key = "k" + std::to_string(*rc::gen::inRange(0, 4));
      auto r = st.enqueue(spec);
      RC_ASSERT(r.has_value());
      if (spec.dedupe_key) {
        auto key = std::pair(spec.topic, *spec.dedupe_key);
        if (auto it = m.dedupe.find(key); it != m.dedupe.end()) {
          RC_ASSERT(!r->created);
          RC_ASSERT(r->id == it->second);
          continue;
        }
        m.dedupe[key] = r->id;
      }
      RC_ASSERT(r->created);
      RC_ASSERT(m.jobs.count(r->id) == 0);
      model_job j;
      j.id = r->id;
      j.topic = spec.topic;
      j.payload = spec.payload;
      j.dedupe_key = spec.dedupe_key;
      j.max_attempts = spec.max_attempts;
      j.visible_after = now + spec.delay;
      m.jobs[r->id] = j;
    } else if (op < 45) {  // claim
      const auto& worker = k_workers[static_cast<std::size_t>(*rc::gen::inRange(0, 3))];
      std::vector<std::string> topics =
          *rc::gen::element(std::vector<std::string>{"a"}, std::vector<std::string>{"b"},
                            std::vector<std::string>{"a", "b"});
      const int limit = *rc::gen::inRange(1, 4);
      auto expected = m.claim(topics, worker, limit, now);
      auto got = st.claim({topics, worker, k_lease, limit});
      RC_ASSERT(got.has_value());
      std::vector<job_id> ids;
      for (const auto& j : *got) {
        ids.push_back(j.id);
        m.held[worker].push_back(j.held_lease());
      }
      RC_ASSERT(ids == expected);
    } else if (op < 75) {  // ack or nack one remembered lease (possibly a stale one)
      const auto& worker = k_workers[static_cast<std::size_t>(*rc::gen::inRange(0, 3))];
      auto& leases = m.held[worker];
      if (leases.empty()) continue;
      const auto index =
          static_cast<std::size_t>(*rc::gen::inRange(0, static_cast<int>(leases.size())));
      const lease l = leases[index];
      leases.erase(leases.begin() + static_cast<std::ptrdiff_t>(index));
      const bool valid = m.holds(l);
      auto& mj = m.jobs[l.id];
      if (op < 60) {
        auto r = st.ack(l);
        RC_ASSERT(r.has_value() == valid);
        if (!valid) RC_ASSERT(r.error().code == errc::conflict);
        if (valid) {
          mj.state = job_state::done;
          mj.locked_by.reset();
        }
      } else {
        const bool permanent = *rc::gen::inRange(0, 6) == 0;
        const millis delay(*rc::gen::element(0, 200, 2000));
        auto r = st.nack({l, "failed", delay, permanent});
        RC_ASSERT(r.has_value() == valid);
        if (!valid) RC_ASSERT(r.error().code == errc::conflict);
        if (valid) {
          ++mj.failures;
          mj.failed_permanently = mj.failed_permanently || permanent;
          const bool dead = permanent || mj.attempts >= mj.max_attempts;
          mj.state = dead ? job_state::dead : job_state::ready;
          mj.locked_by.reset();
          mj.visible_after = now + delay;
          RC_ASSERT(*r == (dead ? nack_outcome::dead : nack_outcome::retry_scheduled));
        }
      }
    } else if (op < 80) {  // a worker crashes: it forgets its leases, the store keeps them
      m.held[k_workers[static_cast<std::size_t>(*rc::gen::inRange(0, 3))]].clear();
    } else if (op < 86) {  // requeue a dead job (or try one that is not dead)
      if (m.jobs.empty()) continue;
      auto it = m.jobs.begin();
      std::advance(it, *rc::gen::inRange(0, static_cast<int>(m.jobs.size())));
      auto& mj = it->second;
      auto r = st.requeue_dead(mj.id);
      RC_ASSERT(r.has_value() == (mj.state == job_state::dead));
      if (r) {
        mj.state = job_state::ready;
        mj.attempts = 0;
        mj.failures = 0;
        mj.failed_permanently = false;
        mj.visible_after = now;
      } else {
        RC_ASSERT(r.error().code == errc::conflict);
      }
    } else {  // time passes
      clock.advance(millis(*rc::gen::element(1, 100, 500, 999, 1000, 1001, 3000)));
    }
    check_agreement(st, m, clock.now());
  }
}

RC_GTEST_PROP(queue_property, store_matches_the_reference_model_on_sqlite, ()) {
  grok::testing::temp_dir dir;
  manual_clock clock;
  auto opened = open_store({.url = dir.file("grok.db"), .time_source = &clock});
  RC_ASSERT(opened.has_value());
  check_against_the_model(**opened, clock);
}

// PostgreSQL: a new database per case would cost more than the case itself (CREATE
// DATABASE and a store with its pool and listener), so every case runs on one store and
// database, whose queue is emptied first (TRUNCATE … RESTART IDENTITY: ids start again at
// 1, as in a new database). Nothing but the queue is touched, so each case still starts
// from an empty store, and the full number of cases runs, as on SQLite.
struct shared_postgres_store {
  shared_postgres_store() : url(grok::testing::fresh_postgres_database()) {
    auto opened = open_store({.url = url, .time_source = &clock});
    if (!opened) throw std::runtime_error("opening PostgreSQL: " + describe(opened.error()));
    st = std::move(*opened);
  }
  std::string url;
  manual_clock clock;  // declared before the store, which reads it, so it outlives it
  std::unique_ptr<store> st;
};

RC_GTEST_PROP(queue_property, store_matches_the_reference_model_on_postgres, ()) {
  // Constructed after (so destroyed before) the test cluster it uses.
  static shared_postgres_store shared;
  grok::testing::pg_exec(shared.url, "TRUNCATE queue RESTART IDENTITY");
  check_against_the_model(*shared.st, shared.clock);
}

}  // namespace
}  // namespace grok::store
