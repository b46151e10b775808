// The run view reducer and the event log, table-driven over event sequences shaped like
// the engine's: success, retry, failure, cancellation, approval, replan, disorder, floods.
import { describe, expect, it } from "vitest";
import type { Run, RunEvent } from "../api/types";
import { appendEvents, emptyLog, hasGap, maxAnswerChars, maxEntries, type EventLog } from "./eventLog";
import { buildRunView, evidenceRefs, type RunView, type StepState } from "./runState";
import { answer, ev, plan, runId, successfulRun } from "./testing";

const logOf = (events: readonly unknown[]): EventLog => appendEvents(emptyLog, events);
const viewOf = (events: readonly RunEvent[], run?: Run): RunView => buildRunView(run ?? null, logOf(events).entries);
const states = (v: RunView): Record<string, StepState> =>
  Object.fromEntries([...v.planners, ...v.steps, v.solver].map((s) => [s.key, s.state]));

// The prefix of the successful run up to (and including) seq `n`.
const upTo = (n: number) => successfulRun().filter((e) => e.seq <= n);
const seqOf = (pred: (e: RunEvent) => boolean) => {
  const e = successfulRun().find(pred);
  if (!e) throw new Error("no such event");
  return e.seq;
};
const e1Started = seqOf((e) => e.event === "step.started" && e.name === "worker.E1");

function failedRun(): RunEvent[] {
  const head = upTo(e1Started + 3); // E1 done
  let seq = head.length;
  return [
    ...head,
    ev(++seq, "step.started", "worker.E2", { tool: "doc_search", attempt: 1 }),
    ev(++seq, "tool.requested", "worker.E2", { tool: "doc_search", args: { query: "capital of France" }, idempotency_key: "k" }),
    ev(++seq, "tool.result", "worker.E2", { tool: "doc_search", status: "error", error: "no documents ingested" }),
    ev(++seq, "step.failed", "worker.E2", { error: { code: "not_found", message: "no documents ingested" }, metrics: { tokens_in: 0, tokens_out: 0, latency_ms: 4 } }),
    ev(++seq, "run.failed", undefined, {
      error: { code: "step_failed", message: "step E2 (doc_search) failed: no documents ingested" },
      usage: { tokens_in: 400, tokens_out: 80, cost: 0 },
    }),
  ];
}

function retriedRun(): RunEvent[] {
  const head = upTo(e1Started - 1);
  let seq = head.length;
  return [
    ...head,
    ev(++seq, "step.started", "worker.E1", { tool: "calculator", attempt: 1 }),
    ev(++seq, "tool.result", "worker.E1", { tool: "calculator", status: "error", error: "connection reset" }),
    ev(++seq, "step.retrying", "worker.E1", { attempt: 1, error: "connection reset", retry_in_ms: 500 }),
  ];
}

describe("buildRunView", () => {
  const cases: {
    name: string;
    events: () => RunEvent[];
    status: string;
    states: Record<string, StepState>;
    check?: (v: RunView) => void;
  }[] = [
    {
      name: "a whole successful run",
      events: successfulRun,
      status: "completed",
      states: { planner: "done", E1: "done", E2: "done", E3: "done", solver: "done" },
      check: (v) => {
        expect(v.answer).toBe(answer);
        expect(v.answerFinal).toBe(true);
        expect(v.usage).toEqual({ tokens_in: 1120, tokens_out: 170, cost: 0.0021 });
        expect(v.failure).toBeNull();
        const e3 = v.steps.find((s) => s.key === "E3");
        expect(e3?.deps).toEqual(["E1", "E2"]);
        expect(e3?.tool).toBe("llm");
        expect(e3?.input).toEqual({ prompt: "Combine 391 and Paris is the capital of France. in one sentence" });
        expect(e3?.tokensIn).toBe(120);
        expect(e3?.durationMs).toBe(700);
        const e1 = v.steps.find((s) => s.key === "E1");
        expect(e1?.output).toBe("391");
        expect(e1?.attempts).toBe(1);
        expect(v.solver.promptVersion).toBe("solver@1");
      },
    },
    {
      name: "mid-run: planned, E1 running, the rest waiting",
      events: () => upTo(e1Started + 1),
      status: "running",
      states: { planner: "done", E1: "running", E2: "waiting", E3: "waiting", solver: "waiting" },
    },
    {
      name: "a retry, then the second attempt",
      events: retriedRun,
      status: "running",
      states: { planner: "done", E1: "retrying", E2: "waiting", E3: "waiting", solver: "waiting" },
      check: (v) => {
        const e1 = v.steps.find((s) => s.key === "E1");
        expect(e1?.attempts).toBe(1);
        expect(e1?.error).toBe("connection reset");
        expect(e1?.retryInMs).toBe(500);
        const more = retriedRun();
        const seq = more.length;
        more.push(ev(seq + 1, "step.started", "worker.E1", { tool: "calculator", attempt: 2 }));
        more.push(ev(seq + 2, "step.completed", "worker.E1", { metrics: { tokens_in: 0, tokens_out: 0, latency_ms: 2 }, result: { status: "ok", outputs: [{ key: "E1", value: "391" }] } }));
        const after = viewOf(more).steps.find((s) => s.key === "E1");
        expect(after?.state).toBe("done");
        expect(after?.attempts).toBe(2);
        expect(after?.output).toBe("391");
      },
    },
    {
      name: "a failed step ends the run",
      events: failedRun,
      status: "failed",
      states: { planner: "done", E1: "done", E2: "failed", E3: "skipped", solver: "skipped" },
      check: (v) => {
        expect(v.failure).toEqual({ code: "step_failed", message: "step E2 (doc_search) failed: no documents ingested" });
        expect(v.steps.find((s) => s.key === "E2")?.error).toBe("no documents ingested");
        expect(v.answer).toBe("");
      },
    },
    {
      name: "cancelled while a step runs",
      events: () => {
        const head = upTo(e1Started + 1);
        return [...head, ev(head.length + 1, "run.cancelled", undefined, { error: { code: "cancelled", message: "cancelled by request" }, usage: { tokens_in: 480, tokens_out: 80, cost: 0 } })];
      },
      status: "cancelled",
      states: { planner: "done", E1: "cancelled", E2: "cancelled", E3: "cancelled", solver: "cancelled" },
      check: (v) => expect(v.failure?.code).toBe("cancelled"),
    },
    {
      name: "waiting for approval",
      events: () => [
        ...upTo(4),
        ev(5, "run.awaiting_input", undefined, { plan, tools: ["calculator", "doc_search", "llm"], estimate: { model_calls: 2, tokens: 960, cost: 0.01 } }),
      ],
      status: "awaiting_input",
      states: { planner: "done", E1: "waiting", E2: "waiting", E3: "waiting", solver: "waiting" },
      check: (v) => expect(v.awaiting).toEqual({ tools: ["calculator", "doc_search", "llm"], estimate: { model_calls: 2, tokens: 960, cost: 0.01 } }),
    },
    {
      name: "a replan replaces the failed step",
      events: () => {
        const head = failedRun().slice(0, -1); // E2 failed, the run goes on
        let seq = head.length;
        return [
          ...head,
          ev(++seq, "step.started", "replanner.1", { attempt: 1, prompt_version: "replan@1" }),
          ev(++seq, "plan.created", "replanner.1", {
            plan: { steps: [{ id: "E4", tool: "http_get", args: { url: "https://example.org/#E1" } }] },
            replan: true,
            prompt_version: "replan@1",
          }),
        ];
      },
      status: "running",
      states: { planner: "done", "replanner.1": "done", E1: "done", E2: "failed", E3: "skipped", E4: "waiting", solver: "waiting" },
      check: (v) => {
        const e4 = v.steps.find((s) => s.key === "E4");
        expect(e4?.plannedBy).toBe("replanner.1");
        expect(e4?.deps).toEqual(["E1"]);
      },
    },
    {
      name: "unknown event types are ignored",
      events: () => [...upTo(4), ev(5, "step.heartbeat", "worker.E1", { note: "<b>hi</b>" }), ev(6, "future.thing", undefined, {})],
      status: "running",
      states: { planner: "done", E1: "waiting", E2: "waiting", E3: "waiting", solver: "waiting" },
    },
  ];

  it.each(cases)("$name", ({ events, status, states: want, check }) => {
    const v = viewOf(events());
    expect(v.status).toBe(status);
    expect(states(v)).toEqual(want);
    check?.(v);
  });

  it("gives the same view for shuffled and duplicated events", () => {
    const events = successfulRun();
    const shuffled = [...events].reverse().concat(events.slice(3, 9)).concat(events.slice(0, 2));
    const ordered = viewOf(events);
    const log = logOf(shuffled);
    expect(log.entries.map((e) => e.seq)).toEqual(logOf(events).entries.map((e) => e.seq));
    expect(hasGap(log)).toBe(false);
    expect(buildRunView(null, log.entries)).toEqual(ordered);
  });

  it("streams the answer from llm.delta until the final answer replaces it", () => {
    const events = upTo(seqOf((e) => e.event === "llm.delta") + 1);
    const v = viewOf(events);
    expect(v.answer).toBe("17 * 23 = 391 [E1].\nThe capital of France is Paris [E2].");
    expect(v.answerFinal).toBe(false);
    const last = events.length;
    const done = viewOf([...events, ev(last + 1, "run.completed", undefined, { answer: "Final.", usage: { tokens_in: 1, tokens_out: 2, cost: 0 } })]);
    expect(done.answer).toBe("Final.");
    expect(done.answerFinal).toBe(true);
  });

  it("takes full outputs, times and a later status from the REST run", () => {
    const events = upTo(e1Started + 1);
    const run: Run = {
      id: runId,
      status: "running",
      input: "task",
      options: {},
      answer: null,
      error: null,
      created_at: "2026-11-25T08:07:00.000Z",
      started_at: "2026-11-25T08:07:01.000Z",
      finished_at: null,
      usage: { tokens_in: 400, tokens_out: 80, cost: 0 },
      steps: [
        { id: "step_1", name: "worker.E1", tool: "calculator", args: { expression: "17 * 23" }, status: "completed", attempts: 1, output: "391 (full)", error: null, started_at: "2026-11-25T08:07:02.000Z", finished_at: "2026-11-25T08:07:02.250Z", tokens_in: 0, tokens_out: 0, latency_ms: 0, prompt_version: null },
      ],
    };
    const v = viewOf(events, run);
    const e1 = v.steps.find((s) => s.key === "E1");
    expect(e1?.state).toBe("done");
    expect(e1?.output).toBe("391 (full)");
    expect(e1?.durationMs).toBe(250);
    // No events at all: the REST run alone.
    expect(buildRunView({ ...run, status: "failed", error: { code: "deadline", message: "too slow" } }, []).failure).toEqual({ code: "deadline", message: "too slow" });
  });

  it("finds evidence references anywhere in the arguments", () => {
    expect([...evidenceRefs({ a: "#E1 and #E12", b: ["x #E3"], c: { d: "#E1" }, e: 5 })].sort()).toEqual(["E1", "E12", "E3"]);
  });
});

describe("appendEvents", () => {
  it("holds events past a gap until the missing ones come", () => {
    const events = successfulRun();
    let log = logOf(events.slice(0, 3));
    log = appendEvents(log, [events[5], events[4]]);
    expect(log.lastSeq).toBe(3);
    expect(hasGap(log)).toBe(true);
    log = appendEvents(log, [events[3]]);
    expect(log.lastSeq).toBe(6);
    expect(hasGap(log)).toBe(false);
    // A gap the server cannot fill is skipped when asked.
    log = appendEvents(log, [events[9]]);
    expect(log.lastSeq).toBe(6);
    log = appendEvents(log, [], true);
    expect(log.lastSeq).toBe(10);
  });

  it("ignores values that are not events and returns the same log for duplicates", () => {
    const log = logOf(successfulRun());
    expect(appendEvents(log, [{ nope: 1 }, null, "x", ...successfulRun()])).toBe(log);
  });

  it("merges a huge llm.delta stream into one entry and caps the text", () => {
    const head = upTo(seqOf((e) => e.name === "solver"));
    const deltas: RunEvent[] = [];
    for (let i = 0; i < 20_000; i += 1) deltas.push(ev(head.length + 1 + i, "llm.delta", "solver", { delta: "word " }));
    let log = logOf(head);
    for (let i = 0; i < deltas.length; i += 500) log = appendEvents(log, deltas.slice(i, i + 500));
    expect(log.entries).toHaveLength(head.length + 1);
    const merged = log.entries[log.entries.length - 1];
    expect(merged?.coalesced).toBe(20_000);
    expect(merged?.last_seq).toBe(head.length + 20_000);
    expect(buildRunView(null, log.entries).answer).toHaveLength(100_000);
    // Past the cap the text stops growing, and says how much it dropped.
    const big = "x".repeat(maxAnswerChars - 10);
    const capped = appendEvents(log, [ev(log.lastSeq + 1, "llm.delta", "solver", { delta: big })]);
    expect((capped.entries[capped.entries.length - 1]?.delta as string).length).toBe(maxAnswerChars);
    expect(capped.droppedText).toBe(100_000 - 10);
  });

  it("keeps at most maxEntries entries, folding old ones but never the plan", () => {
    const head = upTo(4);
    const noise: RunEvent[] = [];
    for (let i = 0; i < maxEntries + 500; i += 1) noise.push(ev(5 + i, "tool.result", "worker.E1", { tool: "calculator", status: "ok", output: "1" }));
    const log = logOf([...head, ...noise]);
    expect(log.entries).toHaveLength(maxEntries);
    expect(log.folded).toBe(head.length + noise.length - maxEntries);
    expect(log.entries.some((e) => e.event === "plan.created")).toBe(true);
    expect(log.entries.some((e) => e.event === "run.created")).toBe(true);
    expect(buildRunView(null, log.entries).steps.map((s) => s.key)).toEqual(["E1", "E2", "E3"]);
  });
});
