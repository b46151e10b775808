// Kills a real process with SIGKILL in the middle of queue transactions, many times, then
// checks that the database is intact and that no job was lost or half-finished.
#include <signal.h>

#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <random>
#include <set>

#include "store/open_store.h"
#include "store/sqlite/sqlite_store.h"
#include "tests_support/process.h"
#include "tests_support/temp_dir.h"

namespace grok {
namespace {

using namespace std::chrono_literals;

TEST(queue_crash, sigkill_mid_transaction_loses_no_job) {
  testing::temp_dir dir;
  const auto db = dir.file("grok.db");
  constexpr int k_jobs = 400;
  {
    auto st = store::open_store({.url = db});
    ASSERT_TRUE(st) << describe(st.error());
    for (int i = 0; i < k_jobs; ++i) {
      ASSERT_TRUE(
          (*st)->enqueue({.topic = "work", .payload = std::to_string(i), .max_attempts = 1000}));
    }
  }

  std::mt19937 rng(12345);
  int kills = 0;
  bool finished = false;
  for (int round = 0; round < 200 && !finished; ++round) {
    testing::child_process child(
        {testing::program_path("queue_crash_child"), db, "child-" + std::to_string(round)});
    // Let it commit a random number of transactions, then kill it without warning; reading
    // its progress bytes is the synchronisation, the kill lands wherever it is by then.
    const auto want = static_cast<std::size_t>(std::uniform_int_distribution<int>(0, 12)(rng));
    auto got = child.read_stdout(want, 30s);
    if (got.size() < want) {
      auto code = child.wait(30s);
      ASSERT_TRUE(code.has_value());
      ASSERT_EQ(*code, 0) << child.stderr_text();
      finished = true;  // it ran out of claimable work and exited by itself
      break;
    }
    child.send_signal(SIGKILL);
    auto code = child.wait(30s);
    ASSERT_TRUE(code.has_value());
    if (*code == -1) ++kills;
  }
  std::cout << "killed the worker process " << kills << " times\n";
  EXPECT_GE(kills, 20) << "the test should have killed the child many times";

  // The file is intact.
  {
    auto sq = store::sqlite::sqlite_store::open(
        {.path = db, .create_if_missing = false, .migrate = false});
    ASSERT_TRUE(sq) << describe(sq.error());
    auto check = (*sq)->integrity_check();
    ASSERT_TRUE(check);
    EXPECT_TRUE(check->empty()) << (*check)[0];
  }

  // Every job is done or claimable once the dead children's leases have run out; a done job
  // always has its followup and an unfinished one never does.
  manual_clock later(system_clock::instance().now() + 2h);
  auto opened = store::open_store(
      {.url = db, .create_if_missing = false, .migrate = false, .time_source = &later});
  ASSERT_TRUE(opened);
  auto& st = **opened;
  auto work = st.list_jobs({.limit = 1000});
  ASSERT_TRUE(work);
  std::set<std::string> followups;
  std::map<store::job_id, store::job> work_jobs;
  for (const auto& j : *work) {
    if (j.topic == "followup") {
      ASSERT_TRUE(j.dedupe_key);
      EXPECT_TRUE(followups.insert(*j.dedupe_key).second) << "duplicate followup " << *j.dedupe_key;
    } else {
      work_jobs[j.id] = j;
    }
  }
  ASSERT_EQ(work_jobs.size(), static_cast<std::size_t>(k_jobs));
  int done = 0;
  std::set<store::job_id> unfinished;
  for (const auto& [id, j] : work_jobs) {
    const bool has_followup = followups.count("f-" + std::to_string(id)) == 1;
    if (j.state == store::job_state::done) {
      ++done;
      EXPECT_TRUE(has_followup) << "job " << id << " is done but its followup is missing";
    } else {
      EXPECT_TRUE(j.state == store::job_state::ready || j.state == store::job_state::leased) << id;
      EXPECT_FALSE(has_followup) << "job " << id << " has a followup but is not done";
      unfinished.insert(id);
    }
  }
  EXPECT_EQ(followups.size(), static_cast<std::size_t>(done));
  auto rest = st.claim({{"work"}, "checker", 1min, 1000});
  ASSERT_TRUE(rest);
  std::set<store::job_id> claimed;
  for (const auto& j : *rest) claimed.insert(j.id);
  EXPECT_EQ(claimed, unfinished);
}

}  // namespace
}  // namespace grok
