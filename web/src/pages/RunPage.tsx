// One run, live: header (id, status, task, times, usage), why it failed, approval and
// cancel actions, the plan graph, the streamed answer, the steps and the event timeline.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useRef } from "react";
import { useParams } from "react-router";
import { useClient } from "../api/auth";
import type { Run } from "../api/types";
import { isTerminal } from "../api/types";
import { AnswerPanel } from "../components/AnswerPanel";
import { ErrorNotice } from "../components/ErrorNotice";
import { FailureNotice } from "../components/FailureNotice";
import { PlanGraph } from "../components/PlanGraph";
import { RelativeTime } from "../components/RelativeTime";
import { RunActions } from "../components/RunActions";
import { StatusBadge } from "../components/StatusBadge";
import { StepList } from "../components/StepList";
import { Timeline } from "../components/Timeline";
import { elapsedMs, formatDuration, formatTokensInOut } from "../format";
import { buildRunView } from "../live/runState";
import { useRunEvents } from "../live/useRunEvents";

export const runQueryKey = (id: string) => ["run", id] as const;
// Events after which the run's step rows have news worth refetching.
const refreshOn = (type: string) => type.startsWith("run.") || type === "plan.created" || type === "step.completed" || type === "step.failed";
export const runRefreshDebounceMs = 400;

function formatCost(cost: number): string {
  if (!cost) return "—";
  return cost < 0.01 ? `$${cost.toFixed(4)}` : `$${cost.toFixed(2)}`;
}

export function RunPage() {
  const { id = "" } = useParams();
  const client = useClient();
  const queryClient = useQueryClient();
  const runQuery = useQuery({
    queryKey: runQueryKey(id),
    queryFn: ({ signal }) => client.getRun(id, signal),
    enabled: id !== "",
  });
  const live = useRunEvents(id || undefined);
  const run = runQuery.data;
  useEffect(() => {
    document.title = `Run ${id} · GROK`;
  }, [id]);
  const view = useMemo(() => buildRunView(run, live.events), [run, live.events]);

  // Refetch the run (debounced) when events say its steps changed.
  const seen = useRef(0);
  const refetchTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refetch = runQuery.refetch;
  useEffect(() => {
    const fresh = live.events.filter((e) => (e.last_seq ?? e.seq) > seen.current);
    if (fresh.length === 0) return;
    const first = seen.current === 0; // the history: the run was fetched alongside it
    seen.current = live.lastSeq;
    if (first || !runQuery.isFetched || !fresh.some((e) => refreshOn(e.event))) return;
    if (refetchTimer.current) return;
    refetchTimer.current = setTimeout(() => {
      refetchTimer.current = null;
      void refetch();
    }, runRefreshDebounceMs);
  }, [live.events, live.lastSeq, refetch, runQuery.isFetched]);
  useEffect(
    () => () => {
      if (refetchTimer.current) clearTimeout(refetchTimer.current);
    },
    [],
  );

  if (runQuery.isError && !run) {
    return (
      <div className="run-page">
        <h1>Run {id}</h1>
        <ErrorNotice error={runQuery.error} title="Could not load this run" onRetry={() => void runQuery.refetch()} />
      </div>
    );
  }

  const status = view.status;
  const onChanged = (next: Run | null) => {
    if (next) queryClient.setQueryData(runQueryKey(id), (old: Run | undefined) => ({ ...old, ...next, steps: next.steps ?? old?.steps }));
    void runQuery.refetch();
  };
  const steps = [...view.planners, ...view.steps, view.solver];

  return (
    <div className="run-page">
      <header className="run-head">
        <div className="run-title">
          <h1>
            Run <code className="run-id">{id}</code>
          </h1>
          <span role="status" aria-label="Run status" className="run-status">
            <StatusBadge status={status} />
          </span>
        </div>
        <RunActions client={client} runId={id} status={status} onChanged={onChanged} />
      </header>
      {run ? (
        <div className="panel run-summary">
          <h2 className="visually-hidden">Task</h2>
          <p className="run-task">{run.input}</p>
          <dl className="run-facts">
            <div>
              <dt>Created</dt>
              <dd>
                <RelativeTime value={run.created_at} />
              </dd>
            </div>
            <div>
              <dt>Started</dt>
              <dd>
                <RelativeTime value={run.started_at} />
              </dd>
            </div>
            <div>
              <dt>Finished</dt>
              <dd>
                <RelativeTime value={run.finished_at} />
              </dd>
            </div>
            <div>
              <dt>Duration</dt>
              <dd>{formatDuration(isTerminal(status) && !run.finished_at ? null : elapsedMs(run.started_at, run.finished_at))}</dd>
            </div>
            <div>
              <dt>Tokens</dt>
              <dd>{formatTokensInOut(view.usage.tokens_in, view.usage.tokens_out)}</dd>
            </div>
            <div>
              <dt>Cost</dt>
              <dd>{formatCost(view.usage.cost)}</dd>
            </div>
            <div>
              <dt>Live</dt>
              <dd>{live.ended || isTerminal(status) ? "ended" : live.transport}</dd>
            </div>
          </dl>
        </div>
      ) : (
        <p className="muted">Loading run…</p>
      )}
      {status === "failed" || status === "cancelled" ? <FailureNotice status={status} error={view.failure} /> : null}
      {view.awaiting ? (
        <section aria-label="Approval" className="notice notice-info">
          <h2>This plan waits for approval</h2>
          <p>
            Tools: {view.awaiting.tools.length ? view.awaiting.tools.join(", ") : "none"}
            {view.awaiting.estimate
              ? ` · about ${view.awaiting.estimate.model_calls} model calls, ${view.awaiting.estimate.tokens.toLocaleString("en-US")} tokens, cost ${formatCost(view.awaiting.estimate.cost)}`
              : ""}
          </p>
        </section>
      ) : null}
      {live.error ? <p className="notice notice-info live-error">{live.error}</p> : null}
      <div className="run-grid">
        <section aria-label="Plan" className="panel run-plan">
          <h2>Plan</h2>
          {view.steps.length === 0 && status !== "completed" ? (
            <p className="muted">
              {isTerminal(status) ? "No plan: the run ended before the planner produced one." : "No plan yet: the planner is working."}
            </p>
          ) : null}
          <PlanGraph view={view} />
        </section>
        <AnswerPanel answer={view.answer} final={view.answerFinal} status={status} />
      </div>
      <div className="run-grid run-grid-lower">
        <StepList steps={steps} />
        <Timeline events={live.events} folded={live.folded} loading={live.loading} />
      </div>
    </div>
  );
}
