// Seeds a dead letter into a running server's database.
//
// Why this way: the API has no call that makes a dead job, and a real one needs a job to
// fail max_attempts times (or a worker to die holding it) — slow and timing-dependent. So
// the test writes the row a dead job leaves behind (state 'dead', attempts spent, the last
// error, finished) straight into the `queue` table (src/store/sqlite/migrations.cpp) with
// the sqlite3 CLI while the server runs (the database is in WAL mode, so a second writer
// just takes its turn). Its topic is one no worker handles ("webhook.deliver"), so after a
// requeue it stays ready in the queue instead of being run and finishing.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface SeededJob {
  id: number;
  topic: string;
  lastError: string;
}

export async function seedDeadLetter(dbPath: string): Promise<SeededJob> {
  const topic = "webhook.deliver";
  const lastError = "HTTP 503 from http://127.0.0.1:9/hooks/run-finished: Service Unavailable (attempt 5 of 5)";
  const payload = JSON.stringify({ url: "http://127.0.0.1:9/hooks/run-finished", event: "run.completed", run_id: "run_e2e_seeded" });
  const now = Date.now();
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const sql =
    "INSERT INTO queue (topic, payload, state, attempts, max_attempts, lease_seq, visible_after, " +
    "last_error, created_at, updated_at, finished_at) VALUES (" +
    [q(topic), q(payload), "'dead'", 5, 5, 5, now - 60_000, q(lastError), now - 300_000, now - 60_000, now - 60_000].join(", ") +
    ") RETURNING id;";
  const { stdout } = await run("sqlite3", ["-bail", "-cmd", ".timeout 10000", dbPath, sql], { timeout: 20_000 });
  const id = Number(stdout.trim());
  if (!Number.isInteger(id) || id <= 0) throw new Error(`sqlite3 did not return the new job's id: ${stdout}`);
  return { id, topic, lastError };
}
