// bench/queue on PostgreSQL (`queue_bench --postgres URL|auto`): claim+ack jobs/s with
// workers that are separate processes, each with its own connection, as `grok worker`
// processes on one database are, next to a raw libpq baseline measured in the same run.
//
// Each worker is this program re-executed (`queue_bench --child-worker MODE INDEX`,
// internal, with the URL in the environment). The parent fills the queue, lets every
// worker connect and prepare, starts them all at once (EOF on a shared stdin pipe) and
// times until the last one has found the queue empty and written how many jobs it
// processed; the counts must add up to the jobs.
//   enqueue                    store.enqueue, one job per transaction, one process
// then, for 1, 2 and 4 processes, one after the other so that the three compare at one
// moment of a machine's load (the whole set runs --repeat times, 3 by default, and each
// row shows its best round):
//   raw, BEGIN/COMMIT          the store's FOR UPDATE SKIP LOCKED claim (limit 1) and its ack
//                              UPDATE, prepared, through libpq, each in BEGIN … COMMIT as the
//                              store sends them: no queue code around them (the baseline)
//   raw, autocommit            the same two statements, one round trip each
//   claim+ack                  store.claim (limit 1) + store.ack on a store from
//                              store::open_store (as the worker pool does by default), with
//                              the percentage of the baseline for as many processes
// The store's claim also runs its dead-letter sweep first: queue code, outside the
// baseline, as on SQLite.
//
// The bench uses only jobs of topic "queue_bench", deletes them between measurements and
// refuses a database that has claimable jobs of any other topic. `auto` creates a database
// on a throwaway cluster on 127.0.0.1 (fsync=off), as the tests do; a URL must name a
// database of the bench's own, which it migrates to the current schema.
#pragma once

#include <string>

namespace grok::bench {

// Runs the measurements `repeat` times, round after round, and prints the best figure of
// each; `target` is a postgres:// URL or "auto". Returns the exit code; exits with a
// message on any failure.
int run_queue_bench_postgres(const std::string& target, int jobs, int repeat);

// The worker process: MODE is store, raw-tx or raw-auto; the URL comes from the parent
// through the environment. Returns the exit code.
int run_queue_worker_process(const std::string& mode, const std::string& index);

}  // namespace grok::bench
