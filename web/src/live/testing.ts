// Test helpers for the live layer: a fake WebSocket class the tests drive by hand, and event
// envelopes shaped like the engine's (schemas/events/*.json). Imported by tests only.
import { vi } from "vitest";
import type { RunEvent } from "../api/types";
import { configureLiveSockets, resetLiveSockets } from "./socketRegistry";

export const runId = "run_01JDW6ZQ4V8M3N2P1K0H9G8F7E";

export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  static reset(): void {
    FakeWebSocket.instances = [];
  }
  static last(): FakeWebSocket {
    const ws = FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
    if (!ws) throw new Error("no WebSocket was created");
    return ws;
  }

  readonly url: string;
  readyState = 0;
  sent: string[] = [];
  closedByClient = false;
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;

  constructor(url: string) {
    this.url = url;
    FakeWebSocket.instances.push(this);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("send on a socket that is not open");
    this.sent.push(data);
  }

  close(): void {
    this.closedByClient = true;
    this.readyState = 3;
  }

  // --- the server's side ---
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  receive(msg: unknown): void {
    this.onmessage?.({ data: JSON.stringify(msg) } as MessageEvent);
  }
  // The upgrade failed (refused, 401): error, then close, never open.
  fail(): void {
    this.readyState = 3;
    this.onerror?.(new Event("error"));
    this.onclose?.({ code: 1006 } as CloseEvent);
  }
  serverClose(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code } as CloseEvent);
  }
  messages(): Record<string, unknown>[] {
    return this.sent.map((s) => JSON.parse(s) as Record<string, unknown>);
  }
}

const baseTs = Date.parse("2026-11-25T08:07:01.000Z");

// One envelope; `name` sets the step name (and a step id), `fields` the type's own fields.
export function ev(seq: number, event: string, name?: string, fields: Record<string, unknown> = {}): RunEvent {
  const e: RunEvent = { schema: 1, event, seq, run_id: runId, ts: new Date(baseTs + seq * 100).toISOString(), ...fields };
  if (name) {
    e.name = name;
    e.step_id = `step_01JDW6ZQ4V8M3N2P1K0H9G${name.replace(/[^A-Z0-9]/gi, "").toUpperCase().padStart(4, "0").slice(-4)}`;
  }
  return e;
}

const metrics = (tokensIn: number, tokensOut: number, latency: number) => ({ tokens_in: tokensIn, tokens_out: tokensOut, latency_ms: latency });
const ok = (key: string, value: string) => ({ status: "ok", outputs: key ? [{ key, value }] : [] });

export const plan = {
  steps: [
    { id: "E1", tool: "calculator", args: { expression: "17 * 23" } },
    { id: "E2", tool: "doc_search", args: { query: "capital of France" } },
    { id: "E3", tool: "llm", args: { prompt: "Combine #E1 and #E2 in one sentence" } },
  ],
};

export const answer = "17 * 23 = 391 [E1].\nThe capital of France is Paris [E2].";

// A whole successful run, as the engine emits it.
export function successfulRun(): RunEvent[] {
  const out: RunEvent[] = [];
  let seq = 0;
  const add = (event: string, name?: string, fields: Record<string, unknown> = {}) => out.push(ev(++seq, event, name, fields));
  add("run.created", undefined, { input: "What is 17 * 23, and what is the capital of France?", options: {} });
  add("step.started", "planner", { attempt: 1, prompt_version: "planner@1" });
  add("step.completed", "planner", { metrics: metrics(400, 80, 900), result: ok("", "") });
  add("plan.created", "planner", { plan, prompt_version: "planner@1", replan: false, metrics: metrics(400, 80, 900) });
  const work = (id: string, tool: string, args: unknown, output: string, m: ReturnType<typeof metrics>) => {
    add("step.started", `worker.${id}`, { tool, attempt: 1 });
    add("tool.requested", `worker.${id}`, { tool, args, idempotency_key: `${runId}:${id}:abc` });
    add("tool.result", `worker.${id}`, { tool, status: "ok", output });
    add("step.completed", `worker.${id}`, { metrics: m, result: ok(id, output) });
  };
  work("E1", "calculator", { expression: "17 * 23" }, "391", metrics(0, 0, 3));
  work("E2", "doc_search", { query: "capital of France" }, "Paris is the capital of France.", metrics(0, 0, 20));
  work("E3", "llm", { prompt: "Combine 391 and Paris is the capital of France. in one sentence" }, "391; Paris.", metrics(120, 30, 700));
  add("step.started", "solver", { attempt: 1, prompt_version: "solver@1" });
  add("llm.delta", "solver", { delta: "17 * 23 = 391 [E1]." });
  add("llm.delta", "solver", { delta: "\nThe capital of France is Paris [E2]." });
  add("step.completed", "solver", { metrics: metrics(600, 60, 1200), result: ok("answer", answer) });
  add("run.completed", undefined, { answer, usage: { tokens_in: 1120, tokens_out: 170, cost: 0.0021 } });
  return out;
}

// Puts FakeWebSocket in place of the browser's WebSocket, with quick reconnects; call in
// beforeEach, and removeFakeLiveSockets in afterEach.
export function installFakeLiveSockets(): void {
  FakeWebSocket.reset();
  vi.stubGlobal("WebSocket", FakeWebSocket);
  configureLiveSockets({ backoff: { initialMs: 5, maxMs: 10, random: () => 1 } });
}

export function removeFakeLiveSockets(): void {
  resetLiveSockets();
  vi.unstubAllGlobals();
}
