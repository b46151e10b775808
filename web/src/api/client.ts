// The UI's one door to the HTTP API: every request carries the signed-in key as a Bearer
// token; every failure becomes an ApiError with a sentence a person can act on.
import type { EventsPage, Page, Problem, QueueStats, Run, RunOptions, Job, Tool } from "./types";

export type ApiErrorKind = "unauthorized" | "forbidden" | "not_found" | "rate_limited" | "unreachable" | "server" | "client";

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status: number; // 0 when the server could not be reached
  readonly problem: Problem | null;

  constructor(kind: ApiErrorKind, status: number, message: string, problem: Problem | null = null) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
    this.problem = problem;
  }
}

function kindOf(status: number): ApiErrorKind {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "server";
  return "client";
}

function messageOf(status: number, problem: Problem | null): string {
  if (status === 401) return "The server refused this API key: it is unknown, revoked or malformed.";
  if (status === 403) return "This API key may not do that: an admin key is needed.";
  const detail = problem?.detail ?? problem?.title;
  if (status === 429) return `Too many requests; try again shortly.${detail ? ` (${detail})` : ""}`;
  return detail ? detail : `The server answered ${status}.`;
}

export interface ClientOptions {
  key: string;
  baseUrl?: string; // "" = same origin (the UI is served by grok serve)
  fetch?: typeof fetch;
}

export class ApiClient {
  readonly key: string;
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions) {
    this.key = options.key;
    this.baseUrl = options.baseUrl ?? "";
    this.fetchImpl = options.fetch ?? ((...args) => globalThis.fetch(...args));
  }

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.key}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await this.fetchImpl(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: signal ?? null,
      });
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") throw e;
      throw new ApiError(
        "unreachable",
        0,
        "Cannot reach the GROK server. Is `grok serve` running, and is this the address it listens on?",
      );
    }
    const text = await response.text();
    if (!response.ok) {
      let problem: Problem | null = null;
      try {
        problem = JSON.parse(text) as Problem;
      } catch {
        problem = null;
      }
      throw new ApiError(kindOf(response.status), response.status, messageOf(response.status, problem), problem);
    }
    return (text ? JSON.parse(text) : null) as T;
  }

  listRuns(params: { status?: string; cursor?: string; limit?: number } = {}, signal?: AbortSignal) {
    const q = new URLSearchParams();
    if (params.status) q.set("status", params.status);
    if (params.cursor) q.set("cursor", params.cursor);
    if (params.limit) q.set("limit", String(params.limit));
    const qs = q.toString();
    return this.request<Page<Run>>("GET", `/v1/runs${qs ? `?${qs}` : ""}`, undefined, signal);
  }
  getRun(id: string, signal?: AbortSignal) {
    return this.request<Run>("GET", `/v1/runs/${encodeURIComponent(id)}`, undefined, signal);
  }
  runEvents(id: string, after = 0, limit = 1000, signal?: AbortSignal) {
    return this.request<EventsPage>("GET", `/v1/runs/${encodeURIComponent(id)}/events?after=${after}&limit=${limit}`, undefined, signal);
  }
  createRun(input: string, options: RunOptions, idempotencyKey?: string) {
    return this.requestWithHeaders<Run>("POST", "/v1/runs", { input, options }, idempotencyKey ? { "Idempotency-Key": idempotencyKey } : {});
  }
  cancelRun(id: string) {
    return this.request<Run>("POST", `/v1/runs/${encodeURIComponent(id)}/cancel`, {});
  }
  approveRun(id: string, body: { approve: boolean; reason?: string; plan?: unknown }) {
    return this.request<Run>("POST", `/v1/runs/${encodeURIComponent(id)}/approve`, body);
  }
  listTools(signal?: AbortSignal) {
    return this.request<{ data: Tool[] }>("GET", "/v1/tools", undefined, signal);
  }
  queueStats(signal?: AbortSignal) {
    return this.request<QueueStats>("GET", "/v1/queue", undefined, signal);
  }
  deadJobs(cursor?: string, signal?: AbortSignal) {
    return this.request<Page<Job>>("GET", `/v1/queue/dead${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`, undefined, signal);
  }
  retryDead(id: number) {
    return this.request<{ id: number; state: string }>("POST", `/v1/queue/dead/${id}/retry`, {});
  }

  // URLs for the live feeds. Browsers cannot set headers on WebSocket or EventSource, so the
  // key goes in ?access_token= (the server accepts it on these two routes only).
  webSocketUrl(): string {
    const base = this.baseUrl || window.location.origin;
    const url = new URL("/v1/ws", base);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("access_token", this.key);
    return url.toString();
  }
  streamUrl(runId: string): string {
    const base = this.baseUrl || window.location.origin;
    const url = new URL(`/v1/runs/${encodeURIComponent(runId)}/stream`, base);
    url.searchParams.set("access_token", this.key);
    return url.toString();
  }

  private async requestWithHeaders<T>(method: string, path: string, body: unknown, extra: Record<string, string>): Promise<T> {
    const inner = new ApiClient({
      key: this.key,
      baseUrl: this.baseUrl,
      fetch: (input, init) => this.fetchImpl(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...extra } }),
    });
    return inner.request<T>(method, path, body);
  }
}
