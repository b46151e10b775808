// Follows one run over Server-Sent Events (GET /v1/runs/{id}/stream) with fetch, so the
// key goes in the Authorization header: resumes after the last seq (Last-Event-ID) when the
// stream drops, and stops after the run's terminal event.
import { createParser } from "eventsource-parser";
import { ApiError, type ApiClient } from "../api/client";
import type { Problem, RunEvent } from "../api/types";
import { isRunEvent, terminalEvents } from "./eventLog";
import { backoffDelay, defaultBackoff, sleep, type Backoff } from "./transport";

export interface SseOptions {
  client: ApiClient;
  runId: string;
  // The last seq the caller has; the stream resumes after it.
  after: () => number;
  onEvent: (e: RunEvent) => void;
  // A failure worth showing (the stream keeps retrying unless `fatal`).
  onError: (error: ApiError, fatal: boolean) => void;
  // Called when a connection is up (events flow).
  onOpen?: () => void;
  signal: AbortSignal;
  fetchImpl?: typeof fetch;
  backoff?: Backoff;
}

// Largest amount of text one SSE message may hold before the stream is dropped.
const maxMessageChars = 8 * 1024 * 1024;

export type SseEnd = "ended" | "aborted" | "fatal";

async function problemOf(res: Response): Promise<Problem | null> {
  try {
    return (await res.json()) as Problem;
  } catch {
    return null;
  }
}

function errorFor(status: number, problem: Problem | null): ApiError {
  if (status === 401) return new ApiError("unauthorized", 401, "The server refused this API key: it is unknown, revoked or malformed.", problem);
  if (status === 403) return new ApiError("forbidden", 403, "This API key may not follow this run.", problem);
  if (status === 404) return new ApiError("not_found", 404, problem?.detail ?? "This run does not exist.", problem);
  const detail = problem?.detail ?? problem?.title ?? `The server answered ${status}.`;
  return new ApiError(status >= 500 ? "server" : "client", status, `Live updates (SSE): ${detail}`, problem);
}

// Streams until the terminal event, an abort or a fatal answer (401, 403, 404).
export async function followRunSse(o: SseOptions): Promise<SseEnd> {
  const fetchImpl = o.fetchImpl ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const backoff = o.backoff ?? defaultBackoff;
  let attempt = 0;
  while (!o.signal.aborted) {
    const after = Math.max(0, Math.floor(o.after()));
    const headers: Record<string, string> = { Authorization: `Bearer ${o.client.key}`, Accept: "text/event-stream" };
    if (after > 0) headers["Last-Event-ID"] = String(after);
    let ended = false;
    let sawEvent = false;
    try {
      const res = await fetchImpl(`${o.client.baseUrl}/v1/runs/${encodeURIComponent(o.runId)}/stream?after=${after}`, {
        headers,
        signal: o.signal,
        cache: "no-store",
      });
      if (!res.ok) {
        const err = errorFor(res.status, await problemOf(res));
        const fatal = res.status === 401 || res.status === 403 || res.status === 404;
        o.onError(err, fatal);
        if (fatal) return "fatal";
      } else if (res.body) {
        o.onOpen?.();
        let size = 0;
        const parser = createParser({
          onEvent(msg) {
            size = 0;
            let data: unknown;
            try {
              data = JSON.parse(msg.data);
            } catch {
              return;
            }
            if (!isRunEvent(data)) return;
            sawEvent = true;
            o.onEvent(data);
            if (terminalEvents.includes(data.event)) ended = true;
          },
        });
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        // A fetch body does not always end on abort by itself; cancelling it ends the read.
        const onAbort = () => void reader.cancel().catch(() => undefined);
        o.signal.addEventListener("abort", onAbort, { once: true });
        try {
          while (!ended) {
            const { value, done } = await reader.read();
            if (done) break;
            const text = decoder.decode(value, { stream: true });
            size += text.length;
            if (size > maxMessageChars) throw new Error("an SSE message is too large");
            parser.feed(text);
          }
        } finally {
          o.signal.removeEventListener("abort", onAbort);
          void reader.cancel().catch(() => undefined);
        }
        if (ended) return "ended";
        if (o.signal.aborted) return "aborted";
      }
    } catch (e) {
      if (o.signal.aborted) return "aborted";
      const message = e instanceof Error ? e.message : String(e);
      o.onError(new ApiError("unreachable", 0, `Live updates (SSE) dropped: ${message}. Reconnecting…`), false);
    }
    if (sawEvent) attempt = 0;
    await sleep(backoffDelay(attempt, backoff), o.signal);
    attempt += 1;
  }
  return "aborted";
}
