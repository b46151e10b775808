// The runs list, newest first: status, task, age, duration and tokens, filtered by status (kept
// in the URL as ?status=), paged with "Load more", and kept fresh by the live layer.
import { useInfiniteQuery } from "@tanstack/react-query";
import { useEffect, useId, useMemo } from "react";
import { Link, useSearchParams } from "react-router";
import { useClient } from "../api/auth";
import { runStatuses, type Run, type RunStatus } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { RelativeTime, useNow } from "../components/RelativeTime";
import { StatusBadge } from "../components/StatusBadge";
import { elapsedMs, formatDuration, formatTokens, truncate } from "../format";
import { runsQueryKey, useLiveRunList } from "../live";

const pageSize = 50;
const taskChars = 120;

function isRunStatus(s: string | null): s is RunStatus {
  return s !== null && (runStatuses as readonly string[]).includes(s);
}

function RunRow({ run, now }: { run: Run; now: number }) {
  const task = run.input.trim() ? truncate(run.input, taskChars) : "(empty task)";
  return (
    <tr>
      <td className="nowrap">
        <StatusBadge status={run.status} />
      </td>
      <td className="task">
        <Link to={`/runs/${encodeURIComponent(run.id)}`} title={truncate(run.input, 600)}>
          {task}
        </Link>
      </td>
      <td className="nowrap">
        <RelativeTime value={run.created_at} now={now} />
      </td>
      <td className="num">{formatDuration(elapsedMs(run.started_at, run.finished_at, now))}</td>
      <td className="num">{formatTokens(run.usage?.tokens_in)}</td>
      <td className="num">{formatTokens(run.usage?.tokens_out)}</td>
    </tr>
  );
}

export function RunsPage() {
  const client = useClient();
  const live = useLiveRunList();
  const [params, setParams] = useSearchParams();
  const raw = params.get("status");
  const status = isRunStatus(raw) ? raw : "";
  const now = useNow(5_000);
  const selectId = useId();

  useEffect(() => {
    document.title = "Runs · GROK";
  }, []);

  const query = useInfiniteQuery({
    queryKey: [...runsQueryKey, "list", { status }],
    queryFn: ({ pageParam, signal }) =>
      client.listRuns({ limit: pageSize, ...(status ? { status } : {}), ...(pageParam ? { cursor: pageParam } : {}) }, signal),
    initialPageParam: "",
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: live.refetchInterval,
  });

  // Pages can overlap when runs are created between two page loads; show each run once.
  const runs = useMemo(() => {
    const seen = new Set<string>();
    const out: Run[] = [];
    for (const page of query.data?.pages ?? []) {
      for (const run of page.data) {
        if (seen.has(run.id)) continue;
        seen.add(run.id);
        out.push(run);
      }
    }
    return out;
  }, [query.data]);

  function onStatusChange(value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set("status", value);
    else next.delete("status");
    setParams(next);
  }

  return (
    <>
      <div className="page-head">
        <h1>Runs</h1>
        <div className="filters">
          <label htmlFor={selectId}>Status</label>
          <select id={selectId} value={status} onChange={(e) => onStatusChange(e.target.value)}>
            <option value="">All</option>
            {runStatuses.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </div>

      {query.isError && !query.data ? <ErrorNotice error={query.error} title="Could not load the runs" onRetry={() => void query.refetch()} /> : null}
      {query.isPending ? <p className="muted">Loading runs…</p> : null}

      {query.data && runs.length === 0 ? (
        <div className="panel empty">
          {status ? (
            <p>
              No runs with status <strong>{status}</strong>.{" "}
              <Link to="/runs">Show all runs</Link>
            </p>
          ) : (
            <>
              <p>No runs yet.</p>
              <p>
                <Link to="/runs/new">Start your first run</Link>
              </p>
            </>
          )}
        </div>
      ) : null}

      {runs.length > 0 ? (
        <div className="table-scroll">
          <table className="data" aria-label="Runs">
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Task</th>
                <th scope="col">Created</th>
                <th scope="col" className="num">Duration</th>
                <th scope="col" className="num">Tokens in</th>
                <th scope="col" className="num">Tokens out</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => (
                <RunRow key={run.id} run={run} now={now} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}

      {query.isError && query.data ? <ErrorNotice error={query.error} title="Could not refresh the runs" /> : null}

      {query.hasNextPage ? (
        <p className="form-actions">
          <button type="button" className="button" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
            {query.isFetchingNextPage ? "Loading…" : "Load more"}
          </button>
        </p>
      ) : null}
    </>
  );
}
