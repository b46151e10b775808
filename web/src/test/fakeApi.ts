// A fake GROK server for component tests: a `fetch` that answers from route handlers and
// records every request, plus realistic JSON fixtures (shapes as the server writes them).
import { vi } from "vitest";
import type { Job, Problem, QueueStats, Run, Tool } from "../api/types";

export interface RecordedRequest {
  method: string;
  url: URL; // absolute (base http://grok.test); read .pathname and .searchParams
  headers: Record<string, string>;
  body: unknown; // parsed JSON, or the raw text, or null
}

// A handler gets the request and returns a Response (or a body to send as 200 JSON). A route
// may also be given a plain JSON value, sent as 200 every time.
export type HandlerFn = (req: RecordedRequest) => Response | unknown | Promise<Response | unknown>;
export type Handler = HandlerFn | object;

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", "X-Request-Id": "req_test", ...headers },
  });
}

export function problemResponse(status: number, title: string, detail: string, requestId = "req_0123"): Response {
  const problem: Problem = {
    type: `https://grok.dev/problems/${title.toLowerCase().replace(/ /g, "-")}`,
    title,
    status,
    detail,
    request_id: requestId,
  };
  return new Response(JSON.stringify(problem), {
    status,
    headers: { "Content-Type": "application/problem+json", "X-Request-Id": requestId },
  });
}

export function textResponse(text: string, status = 200, contentType = "text/html"): Response {
  return new Response(text, { status, headers: { "Content-Type": contentType } });
}

// Makes a TypeError like the browser's fetch does when nothing listens.
export function networkError(): never {
  throw new TypeError("Failed to fetch");
}

function headersOf(init: RequestInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const h = init?.headers;
  if (!h) return out;
  new Headers(h as HeadersInit).forEach((value, key) => {
    out[key.toLowerCase()] = value;
  });
  return out;
}

export interface FakeApi {
  fetch: ReturnType<typeof vi.fn<typeof fetch>>;
  requests: RecordedRequest[];
  // Requests to one route ("GET /v1/runs"), in order.
  calls: (route: string) => RecordedRequest[];
  // Replaces or adds a handler.
  on: (route: string, handler: Handler) => void;
}

// Routes are "METHOD /path" with `:param` segments, e.g. "POST /v1/queue/dead/:id/retry".
// An unmatched request gets a 404 problem, so a missing handler shows up as a failing test.
export function fakeApi(routes: Record<string, Handler> = {}): FakeApi {
  const table = new Map<string, Handler>(Object.entries(routes));
  const requests: RecordedRequest[] = [];
  const match = (method: string, path: string): Handler | undefined => {
    for (const [route, handler] of table) {
      const [m, pattern] = route.split(" ", 2);
      if (m !== method || !pattern) continue;
      const re = new RegExp(`^${pattern.replace(/:[a-z_]+/gi, "[^/]+")}$`);
      if (re.test(path)) return handler;
    }
    return undefined;
  };
  const fetchFn = vi.fn<typeof fetch>(async (input, init) => {
    const raw = typeof input === "string" ? input : input instanceof URL ? input.toString() : input.url;
    const url = new URL(raw, "http://grok.test");
    const method = (init?.method ?? "GET").toUpperCase();
    let body: unknown = null;
    if (typeof init?.body === "string") {
      try {
        body = JSON.parse(init.body);
      } catch {
        body = init.body;
      }
    }
    const req: RecordedRequest = { method, url, headers: headersOf(init), body };
    requests.push(req);
    const handler = match(method, url.pathname);
    if (!handler) return problemResponse(404, "Not Found", `no fake route for ${method} ${url.pathname}`);
    const out = typeof handler === "function" ? await handler(req) : handler;
    return out instanceof Response ? out : jsonResponse(out);
  });
  return {
    fetch: fetchFn,
    requests,
    calls: (route) => {
      const [m, p] = route.split(" ", 2);
      return requests.filter((r) => r.method === m && r.url.pathname === p);
    },
    on: (route, handler) => {
      table.set(route, handler);
    },
  };
}

// ---- fixtures -------------------------------------------------------------------------

export const fixedNow = Date.parse("2026-11-25T08:10:00.000Z");

export function makeRun(overrides: Partial<Run> = {}): Run {
  return {
    id: "run_01JDW6ZQ4V8M3N2P1K0H9G8F7E",
    status: "completed",
    input: "What is 17 * 23, and what is the capital of France?",
    options: { max_steps: 8 },
    answer: "17 * 23 = 391 [E1]. The capital of France is Paris [E2].",
    error: null,
    created_at: "2026-11-25T08:07:00.000Z",
    started_at: "2026-11-25T08:07:01.000Z",
    finished_at: "2026-11-25T08:07:05.200Z",
    usage: { tokens_in: 1532, tokens_out: 240, cost: 0 },
    ...overrides,
  };
}

export const sampleTools: Tool[] = [
  {
    name: "calculator",
    description:
      "Evaluates an arithmetic expression: + - * / % ^, parentheses, sqrt abs round floor ceil ln log10 exp sin cos tan min max pow, constants pi and e.",
    parameters: {
      type: "object",
      properties: { expression: { type: "string", maxLength: 1000 } },
      required: ["expression"],
      additionalProperties: false,
    },
  },
  {
    name: "http_get",
    description:
      "GETs an http or https URL and returns the status, content type and body text. Private, loopback and link-local addresses are refused.",
    parameters: {
      type: "object",
      properties: { url: { type: "string", maxLength: 2048 } },
      required: ["url"],
      additionalProperties: false,
    },
  },
];

export function makeQueueStats(overrides: Partial<QueueStats> = {}): QueueStats {
  return {
    depth: [
      { topic: "runs", state: "ready", count: 2 },
      { topic: "runs", state: "leased", count: 1 },
      { topic: "runs", state: "dead", count: 1 },
    ],
    visible: 2,
    oldest_visible_lag_ms: 1250,
    ...overrides,
  };
}

export function makeJob(overrides: Partial<Job> = {}): Job {
  return {
    id: 42,
    topic: "runs",
    state: "dead",
    attempts: 5,
    max_attempts: 5,
    last_error: "engine: model unreachable: connect 127.0.0.1:9: connection refused",
    payload: { run_id: "run_01JDW6ZQ4V8M3N2P1K0H9G8F7E" },
    created_at: "2026-11-25T08:00:00.000Z",
    updated_at: "2026-11-25T08:05:00.000Z",
    ...overrides,
  };
}
