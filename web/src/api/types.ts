// The shapes of GROK's HTTP API (v1) and its events (schema 1), as the UI reads them.
// Fields may be added by the server, never renamed; the UI ignores what it does not know.

export type RunStatus = "queued" | "running" | "awaiting_input" | "completed" | "failed" | "cancelled";
export const runStatuses: readonly RunStatus[] = [
  "queued",
  "running",
  "awaiting_input",
  "completed",
  "failed",
  "cancelled",
];
export const terminalStatuses: readonly RunStatus[] = ["completed", "failed", "cancelled"];
export const isTerminal = (s: RunStatus): boolean => terminalStatuses.includes(s);

export interface Usage {
  tokens_in: number;
  tokens_out: number;
  cost: number;
}

export interface RunError {
  code: string;
  message: string;
}

export interface Step {
  id: string;
  name: string; // "planner" | "worker.E1" | "solver"
  tool: string | null;
  args: unknown;
  status: string; // pending | running | completed | failed | … (server's words)
  attempts: number;
  output: string | null;
  error: string | null;
  started_at: string | null;
  finished_at: string | null;
  tokens_in: number;
  tokens_out: number;
  latency_ms: number;
  prompt_version: string | null;
}

export interface RunOptions {
  planner_model?: string;
  solver_model?: string;
  tools?: string[];
  max_steps?: number;
  max_replans?: number;
  token_budget?: number;
  deadline_s?: number;
  temperature?: number;
  require_approval?: boolean;
}

export interface Run {
  id: string;
  status: RunStatus;
  input: string;
  options: RunOptions;
  answer: string | null;
  error: RunError | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  usage: Usage;
  steps?: Step[];
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

// GET /v1/runs/{id}/events: a page of events and the seq to ask `after` for the next one.
export interface EventsPage {
  data: RunEvent[];
  next_after: number;
}

export interface Tool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface QueueDepth {
  topic: string;
  state: string; // ready | leased | done | dead …
  count: number;
}

export interface QueueStats {
  depth: QueueDepth[];
  visible: number;
  oldest_visible_lag_ms: number | null;
}

export interface Job {
  id: number;
  topic: string;
  state: string;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  payload: unknown;
  created_at: string;
  updated_at: string;
}

// RFC 9457 problem details, as every error response carries them.
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  request_id?: string;
  [extra: string]: unknown;
}

// One event envelope (schema 1). `event` names the type; the rest depends on it.
export interface RunEvent {
  schema: number;
  event: string;
  seq: number;
  run_id: string;
  ts: string;
  step_id?: string;
  name?: string;
  metrics?: { tokens_in?: number; tokens_out?: number; latency_ms?: number };
  [field: string]: unknown;
}
