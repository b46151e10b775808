// Helper for queue_crash_test: works through the "work" topic until killed.
//
// For each job it enqueues a "followup" job (dedupe key "f-<id>") and acks the job in the
// same transaction, so "work job done" and "followup exists" must always agree. Odd-numbered
// jobs are claimed in a transaction of their own first, so a kill can also land while a
// lease is held with nothing else done. After every commit it writes one byte to stdout.
//
// usage: queue_crash_child DB_PATH WORKER_ID
#include <unistd.h>

#include <cstdio>
#include <string>

#include "store/open_store.h"

using namespace grok;

namespace {

void progress() {
  char c = '.';
  if (write(1, &c, 1) != 1) _exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: queue_crash_child DB_PATH WORKER_ID\n");
    return 2;
  }
  auto opened = store::open_store({.url = argv[1], .create_if_missing = false, .migrate = false});
  if (!opened) {
    std::fprintf(stderr, "open: %s\n", describe(opened.error()).c_str());
    return 1;
  }
  auto& st = **opened;
  const std::string worker = argv[2];
  const store::claim_request request{{"work"}, worker, millis(60'000), 1};

  auto finish = [&](store::transaction& tx, const store::job& j) -> result<void> {
    auto f = tx.enqueue(
        {.topic = "followup", .payload = j.payload, .dedupe_key = "f-" + std::to_string(j.id)});
    if (!f) return tl::unexpected(f.error());
    return tx.ack(j.held_lease());
  };

  while (true) {
    std::optional<store::job> claimed;
    bool split = false;
    auto r = st.transact([&](store::transaction& tx) -> result<void> {
      auto jobs = tx.claim(request);
      if (!jobs) return tl::unexpected(jobs.error());
      if (jobs->empty()) return {};
      claimed = (*jobs)[0];
      split = claimed->id % 2 == 1;
      if (split) return {};  // finish in a second transaction
      return finish(tx, *claimed);
    });
    if (!r) {
      std::fprintf(stderr, "transaction: %s\n", describe(r.error()).c_str());
      return 1;
    }
    if (!claimed) return 0;  // nothing left that we can claim
    progress();
    if (split) {
      auto done = st.transact([&](store::transaction& tx) { return finish(tx, *claimed); });
      if (!done) {
        std::fprintf(stderr, "finish: %s\n", describe(done.error()).c_str());
        return 1;
      }
      progress();
    }
  }
}
