// The queue page (admin keys): depth per topic and state, visible jobs and the oldest one's lag,
// and the dead letters with their last error and a requeue button each. Refreshes every 5 s.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { useClient } from "../api/auth";
import { ApiError } from "../api/client";
import type { Job } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { RelativeTime } from "../components/RelativeTime";
import { StatusBadge } from "../components/StatusBadge";
import { formatDuration } from "../format";

const refreshMs = 5_000;
const queueKey = ["queue"] as const;
const maxErrorChars = 4_000;

const isForbidden = (e: unknown) => e instanceof ApiError && e.kind === "forbidden";

function AdminNeeded() {
  return (
    <div className="notice notice-info" role="note">
      <p>
        <strong>The queue needs an admin key.</strong>
      </p>
      <p className="muted">
        This key has the <code>runs</code> scope. Sign out and sign in with an admin key (<code>grok keys create --scope admin --name NAME</code>) to see
        the queue and requeue dead letters.
      </p>
    </div>
  );
}

function DeadRow({ job, onRequeue, busy }: { job: Job; onRequeue: (job: Job) => void; busy: boolean }) {
  const err = job.last_error ?? "";
  return (
    <tr>
      <td className="num mono">{job.id}</td>
      <td className="nowrap">{job.topic}</td>
      <td className="num">
        {job.attempts}/{job.max_attempts}
      </td>
      <td className="error-cell">
        {err ? <pre>{err.length > maxErrorChars ? `${err.slice(0, maxErrorChars)}…` : err}</pre> : <span className="muted">—</span>}
      </td>
      <td className="nowrap">
        <RelativeTime value={job.updated_at} />
      </td>
      <td>
        <button type="button" className="button small" aria-label={`Requeue job ${job.id}`} onClick={() => onRequeue(job)} disabled={busy}>
          Requeue
        </button>
      </td>
    </tr>
  );
}

export function QueuePage() {
  const client = useClient();
  const queryClient = useQueryClient();
  // Requeued jobs, with the updated_at they had: hidden until they change (a job that dies
  // again gets a new updated_at and shows up again).
  const [requeued, setRequeued] = useState<ReadonlyMap<number, string>>(new Map());
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    document.title = "Queue · GROK";
  }, []);

  const stats = useQuery({
    queryKey: [...queueKey, "stats"],
    queryFn: ({ signal }) => client.queueStats(signal),
    refetchInterval: (q) => (isForbidden(q.state.error) ? false : refreshMs),
  });
  const forbidden = isForbidden(stats.error);

  const dead = useInfiniteQuery({
    queryKey: [...queueKey, "dead"],
    queryFn: ({ pageParam, signal }) => client.deadJobs(pageParam || undefined, signal),
    initialPageParam: "",
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: (q) => (isForbidden(q.state.error) ? false : refreshMs),
    enabled: !forbidden,
  });

  const retry = useMutation({
    mutationFn: (job: Pick<Job, "id" | "updated_at">) => client.retryDead(job.id),
    onMutate: () => setMessage(null),
    onSuccess: (_res, job) => {
      setRequeued((r) => new Map(r).set(job.id, job.updated_at));
      setMessage(`Job ${job.id} requeued`);
      void queryClient.invalidateQueries({ queryKey: queueKey });
    },
    // 409 "not dead": someone else requeued it; show the fresh list either way.
    onError: () => void queryClient.invalidateQueries({ queryKey: queueKey }),
  });

  const jobs = useMemo(() => {
    const seen = new Set<number>();
    const out: Job[] = [];
    for (const page of dead.data?.pages ?? []) {
      for (const job of page.data) {
        if (seen.has(job.id) || requeued.get(job.id) === job.updated_at) continue;
        seen.add(job.id);
        out.push(job);
      }
    }
    return out;
  }, [dead.data, requeued]);

  if (forbidden || isForbidden(dead.error)) {
    return (
      <>
        <h1>Queue</h1>
        <AdminNeeded />
      </>
    );
  }

  const s = stats.data;
  return (
    <>
      <h1>Queue</h1>
      {/* Always in the page, so screen readers announce the message when it appears. */}
      <div role="status" className={message ? "notice notice-ok" : undefined}>
        {message}
      </div>
      {retry.isError ? <ErrorNotice error={retry.error} title={`Job ${retry.variables?.id ?? ""} was not requeued`} /> : null}

      <section className="panel" aria-labelledby="queue-depth-heading">
        <h2 id="queue-depth-heading">Depth</h2>
        {stats.isError ? <ErrorNotice error={stats.error} title="Could not load the queue state" /> : null}
        {stats.isPending ? <p className="muted">Loading the queue…</p> : null}
        {s ? (
          <>
            <dl className="stats">
              <div>
                <dt>Visible jobs</dt>
                <dd>{s.visible}</dd>
              </div>
              <div>
                <dt>Oldest visible lag</dt>
                <dd>{s.oldest_visible_lag_ms === null ? "—" : formatDuration(s.oldest_visible_lag_ms)}</dd>
              </div>
            </dl>
            {s.depth.length === 0 ? (
              <p className="muted">The queue is empty.</p>
            ) : (
              <div className="table-scroll">
                <table className="data" aria-label="Queue depth">
                  <thead>
                    <tr>
                      <th scope="col">Topic</th>
                      <th scope="col">State</th>
                      <th scope="col" className="num">
                        Count
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.depth.map((d) => (
                      <tr key={`${d.topic}/${d.state}`}>
                        <td>{d.topic}</td>
                        <td>
                          <StatusBadge status={d.state} />
                        </td>
                        <td className="num">{d.count.toLocaleString("en-US")}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        ) : null}
      </section>

      <section className="panel" aria-labelledby="dead-letters-heading">
        <h2 id="dead-letters-heading">Dead letters</h2>
        {dead.isError ? <ErrorNotice error={dead.error} title="Could not load the dead letters" /> : null}
        {dead.isPending ? <p className="muted">Loading dead letters…</p> : null}
        {dead.data && jobs.length === 0 ? <p className="muted">No dead letters</p> : null}
        {jobs.length > 0 ? (
          <div className="table-scroll">
            <table className="data" aria-label="Dead letters">
              <thead>
                <tr>
                  <th scope="col" className="num">
                    Id
                  </th>
                  <th scope="col">Topic</th>
                  <th scope="col" className="num">
                    Attempts
                  </th>
                  <th scope="col">Last error</th>
                  <th scope="col">Updated</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {jobs.map((job) => (
                  <DeadRow key={job.id} job={job} onRequeue={(j) => retry.mutate(j)} busy={retry.isPending && retry.variables?.id === job.id} />
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {dead.hasNextPage ? (
          <p className="form-actions">
            <button type="button" className="button" onClick={() => void dead.fetchNextPage()} disabled={dead.isFetchingNextPage}>
              {dead.isFetchingNextPage ? "Loading…" : "Load more"}
            </button>
          </p>
        ) : null}
      </section>
    </>
  );
}
