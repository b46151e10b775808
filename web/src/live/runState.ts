// The run view model: what the run page shows, computed from the run (GET /v1/runs/{id})
// and its events. Pure; event fields follow schemas/events/*.json. Unknown event types
// are ignored here (the timeline still lists them).
import type { Run, RunError, RunEvent, RunStatus, Step, Usage } from "../api/types";
import { isTerminal } from "../api/types";

export type StepState = "waiting" | "running" | "retrying" | "done" | "failed" | "skipped" | "cancelled";
export type StepKind = "planner" | "worker" | "solver";

export interface StepView {
  key: string; // "planner", "replanner.1", "E1", "solver"
  name: string; // the server's step name: "planner", "worker.E1", "solver"
  kind: StepKind;
  stepId: string | null;
  tool: string | null;
  args: unknown; // as planned (may name #E1)
  input: unknown; // as called (evidence substituted), from tool.requested
  deps: string[]; // evidence ids named in args
  plannedBy: string; // key of the planner node that planned it
  state: StepState;
  attempts: number;
  output: string | null;
  error: string | null;
  retryInMs: number | null;
  durationMs: number | null;
  tokensIn: number;
  tokensOut: number;
  promptVersion: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface AwaitingInput {
  tools: string[];
  estimate: { model_calls: number; tokens: number; cost: number } | null;
}

export interface RunView {
  status: RunStatus;
  planners: StepView[]; // "planner", then "replanner.N"
  steps: StepView[]; // workers, in plan order (replans append)
  solver: StepView;
  answer: string; // streamed text, replaced by the final answer
  answerFinal: boolean;
  failure: RunError | null; // run.failed / run.cancelled error
  usage: Usage;
  awaiting: AwaitingInput | null;
}

const terminalStepStates: readonly StepState[] = ["done", "failed", "skipped", "cancelled"];

// Evidence ids (#E1 → "E1") named in string values anywhere in `args`.
export function evidenceRefs(args: unknown, out: Set<string> = new Set()): Set<string> {
  if (typeof args === "string") {
    for (const m of args.matchAll(/#(E\d+)/g)) if (m[1]) out.add(m[1]);
  } else if (Array.isArray(args)) {
    for (const v of args) evidenceRefs(v, out);
  } else if (typeof args === "object" && args !== null) {
    for (const v of Object.values(args)) evidenceRefs(v, out);
  }
  return out;
}

// The node key for a server step name.
export function stepKey(name: string): string {
  return name.startsWith("worker.") ? name.slice("worker.".length) : name;
}

// The server's step status (steps table) as a state word.
export function stateOfStatus(status: string): StepState {
  switch (status) {
    case "running":
      return "running";
    case "retrying":
      return "retrying";
    case "completed":
      return "done";
    case "failed":
    case "replanned":
      return "failed";
    case "skipped":
      return "skipped";
    case "cancelled":
      return "cancelled";
    default:
      return "waiting";
  }
}

function blankStep(key: string, kind: StepKind, name: string): StepView {
  return {
    key,
    name,
    kind,
    stepId: null,
    tool: null,
    args: null,
    input: null,
    deps: [],
    plannedBy: "planner",
    state: "waiting",
    attempts: 0,
    output: null,
    error: null,
    retryInMs: null,
    durationMs: null,
    tokensIn: 0,
    tokensOut: 0,
    promptVersion: null,
    startedAt: null,
    finishedAt: null,
  };
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Record<string, unknown> | null =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

function errorOf(v: unknown): RunError | null {
  const o = obj(v);
  if (!o) return null;
  return { code: str(o.code) ?? "error", message: str(o.message) ?? "" };
}

function usageOf(v: unknown): Usage | null {
  const o = obj(v);
  if (!o) return null;
  return { tokens_in: num(o.tokens_in) ?? 0, tokens_out: num(o.tokens_out) ?? 0, cost: num(o.cost) ?? 0 };
}

function planSteps(plan: unknown): { id: string; tool: string; args: unknown }[] {
  const steps = obj(plan)?.steps;
  if (!Array.isArray(steps)) return [];
  const out: { id: string; tool: string; args: unknown }[] = [];
  for (const s of steps) {
    const o = obj(s);
    const id = str(o?.id);
    if (!o || !id) continue;
    out.push({ id, tool: str(o.tool) ?? "", args: o.args ?? {} });
  }
  return out;
}

// Moves a step to `next` unless it already ended (events may arrive after the REST snapshot).
function advance(step: StepView, next: StepState): void {
  if (terminalStepStates.includes(step.state)) return;
  step.state = next;
}

class Builder {
  readonly planners = new Map<string, StepView>();
  readonly workers = new Map<string, StepView>();
  readonly solver = blankStep("solver", "solver", "solver");
  status: RunStatus | null = null;
  answer = "";
  answerFinal = false;
  failure: RunError | null = null;
  usage: Usage | null = null;
  awaiting: AwaitingInput | null = null;

  constructor() {
    this.planners.set("planner", blankStep("planner", "planner", "planner"));
  }

  step(name: string): StepView {
    if (name === "solver") return this.solver;
    if (name === "planner" || name.startsWith("replanner.")) {
      let p = this.planners.get(name);
      if (!p) {
        p = blankStep(name, "planner", name);
        this.planners.set(name, p);
      }
      return p;
    }
    const key = stepKey(name);
    let w = this.workers.get(key);
    if (!w) {
      w = blankStep(key, "worker", `worker.${key}`);
      this.workers.set(key, w);
    }
    return w;
  }

  addPlan(plan: unknown, plannedBy: string, replan: boolean): void {
    if (replan) {
      // Steps of the old plan that never ran were dropped by the replan.
      for (const w of this.workers.values()) if (w.state === "waiting") w.state = "skipped";
    }
    for (const ps of planSteps(plan)) {
      const w = this.step(`worker.${ps.id}`);
      w.tool = ps.tool || w.tool;
      w.args = ps.args;
      w.deps = [...evidenceRefs(ps.args)].sort();
      w.plannedBy = plannedBy;
      if (w.state === "skipped" && !replan) w.state = "waiting";
    }
  }

  apply(e: RunEvent): void {
    const name = str(e.name);
    const s = name ? this.step(name) : null;
    if (s && typeof e.step_id === "string") s.stepId = e.step_id;
    const metrics = obj(e.metrics);
    const addMetrics = (st: StepView) => {
      if (!metrics) return;
      st.tokensIn = num(metrics.tokens_in) ?? st.tokensIn;
      st.tokensOut = num(metrics.tokens_out) ?? st.tokensOut;
      st.durationMs = num(metrics.latency_ms) ?? st.durationMs;
    };
    switch (e.event) {
      case "run.created":
        this.status = "queued";
        break;
      case "plan.created":
        if (e.edited === true) {
          // An approver's edit replaces the plan that waited for approval.
          for (const [k, w] of this.workers) if (w.state === "waiting") this.workers.delete(k);
        }
        this.addPlan(e.plan, name ?? "planner", e.replan === true);
        if (this.status !== "awaiting_input" || e.edited === true) this.status = "running";
        if (s) {
          advance(s, "done");
          addMetrics(s);
          s.promptVersion = str(e.prompt_version) ?? s.promptVersion;
        }
        break;
      case "run.awaiting_input": {
        if (planSteps(e.plan).length) this.addPlan(e.plan, "planner", false);
        const est = obj(e.estimate);
        this.awaiting = {
          tools: Array.isArray(e.tools) ? e.tools.filter((t): t is string => typeof t === "string") : [],
          estimate: est ? { model_calls: num(est.model_calls) ?? 0, tokens: num(est.tokens) ?? 0, cost: num(est.cost) ?? 0 } : null,
        };
        this.status = "awaiting_input";
        break;
      }
      case "step.started":
        this.status = "running";
        if (!s) break;
        advance(s, "running");
        s.attempts = Math.max(s.attempts, num(e.attempt) ?? 1);
        s.tool = str(e.tool) ?? s.tool;
        s.promptVersion = str(e.prompt_version) ?? s.promptVersion;
        s.startedAt = s.startedAt ?? e.ts;
        s.retryInMs = null;
        break;
      case "tool.requested":
        if (!s) break;
        s.tool = str(e.tool) ?? s.tool;
        s.input = e.args ?? null;
        break;
      case "tool.result":
        if (!s) break;
        if (e.status === "ok") {
          s.output = str(e.output) ?? s.output;
          s.error = null;
        } else {
          s.error = str(e.error) ?? s.error;
        }
        break;
      case "step.retrying":
        if (!s) break;
        advance(s, "retrying");
        s.attempts = Math.max(s.attempts, num(e.attempt) ?? 1);
        s.error = str(e.error) ?? s.error;
        s.retryInMs = num(e.retry_in_ms);
        break;
      case "step.completed": {
        if (!s) break;
        advance(s, "done");
        addMetrics(s);
        s.finishedAt = e.ts;
        s.retryInMs = null;
        const outputs = obj(e.result)?.outputs;
        const first = Array.isArray(outputs) ? obj(outputs[0]) : null;
        const value = str(first?.value);
        if (value !== null && (s.output === null || s.output.length < value.length)) s.output = value;
        break;
      }
      case "step.failed":
        if (!s) break;
        advance(s, "failed");
        addMetrics(s);
        s.finishedAt = e.ts;
        s.retryInMs = null;
        s.error = errorOf(e.error)?.message ?? s.error;
        break;
      case "llm.delta":
        if (!this.answerFinal && typeof e.delta === "string") this.answer += e.delta;
        break;
      case "run.completed":
        this.status = "completed";
        if (typeof e.answer === "string") {
          this.answer = e.answer;
          this.answerFinal = true;
        }
        this.usage = usageOf(e.usage) ?? this.usage;
        break;
      case "run.failed":
      case "run.cancelled":
        this.status = e.event === "run.failed" ? "failed" : "cancelled";
        this.failure = errorOf(e.error);
        this.usage = usageOf(e.usage) ?? this.usage;
        break;
      default:
        break; // unknown types: shown in the timeline only
    }
  }

  // Overlays the REST snapshot: full outputs, times and counters; its state wins when
  // it is further along than what the events said.
  merge(rest: Step): void {
    const s = this.step(rest.name);
    s.stepId = rest.id;
    s.tool = rest.tool ?? s.tool;
    if (rest.args !== null && rest.args !== undefined) {
      s.args = rest.args;
      if (s.kind === "worker") s.deps = [...evidenceRefs(rest.args)].sort();
    }
    const restState = stateOfStatus(rest.status);
    if ((terminalStepStates.includes(restState) || s.state === "waiting") && !terminalStepStates.includes(s.state)) {
      s.state = restState;
    }
    s.attempts = Math.max(s.attempts, rest.attempts ?? 0);
    if (rest.output !== null && rest.output !== undefined) s.output = rest.output;
    if (rest.error) s.error = rest.error;
    s.startedAt = rest.started_at ?? s.startedAt;
    s.finishedAt = rest.finished_at ?? s.finishedAt;
    if (rest.tokens_in || rest.tokens_out) {
      s.tokensIn = rest.tokens_in;
      s.tokensOut = rest.tokens_out;
    }
    if (rest.latency_ms) s.durationMs = rest.latency_ms;
    s.promptVersion = rest.prompt_version ?? s.promptVersion;
  }
}

function chooseStatus(fromRest: RunStatus | null, fromEvents: RunStatus | null): RunStatus {
  if (fromEvents && isTerminal(fromEvents)) return fromEvents;
  if (fromRest && isTerminal(fromRest)) return fromRest;
  // Approval sends no event until the first step starts; the REST answer knows first.
  if (fromRest === "running" && fromEvents === "awaiting_input") return "running";
  return fromEvents ?? fromRest ?? "queued";
}

function durationOf(s: StepView): void {
  if (s.durationMs !== null || !s.startedAt || !s.finishedAt) return;
  const d = Date.parse(s.finishedAt) - Date.parse(s.startedAt);
  if (Number.isFinite(d) && d >= 0) s.durationMs = d;
}

// Builds the view of a run from its REST snapshot (if loaded) and its events in seq order.
export function buildRunView(run: Run | null | undefined, events: readonly RunEvent[]): RunView {
  const b = new Builder();
  for (const e of events) b.apply(e);
  for (const rest of run?.steps ?? []) b.merge(rest);

  const status = chooseStatus(run?.status ?? null, b.status);
  const ended = isTerminal(status);
  const all = [...b.planners.values(), ...b.workers.values(), b.solver];
  for (const s of all) {
    durationOf(s);
    // Nothing runs after the run ended: open steps were skipped (or cancelled).
    if (ended && !terminalStepStates.includes(s.state)) s.state = status === "cancelled" ? "cancelled" : "skipped";
  }
  if (ended && status === "completed" && b.solver.state !== "done") b.solver.state = "done";

  let answer = b.answer;
  let answerFinal = b.answerFinal;
  if (run?.answer && (status === "completed" || !answer)) {
    answer = run.answer;
    answerFinal = status === "completed";
  }
  const failure = b.failure ?? (status === "failed" || status === "cancelled" ? (run?.error ?? null) : null);
  const stepUsage = all.reduce(
    (u, s) => ({ tokens_in: u.tokens_in + s.tokensIn, tokens_out: u.tokens_out + s.tokensOut, cost: 0 }),
    { tokens_in: 0, tokens_out: 0, cost: 0 },
  );
  const restUsage = run?.usage ?? null;
  let usage = b.usage ?? restUsage ?? stepUsage;
  if (!b.usage && restUsage && stepUsage.tokens_in + stepUsage.tokens_out > restUsage.tokens_in + restUsage.tokens_out) {
    usage = { ...stepUsage, cost: restUsage.cost };
  }
  return {
    status,
    planners: [...b.planners.values()],
    steps: [...b.workers.values()],
    solver: b.solver,
    answer,
    answerFinal,
    failure,
    usage,
    awaiting: status === "awaiting_input" ? (b.awaiting ?? { tools: [], estimate: null }) : null,
  };
}
