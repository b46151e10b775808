// SSE over fetch: frames split across chunks, the Bearer header, Last-Event-ID on resume,
// the end after the terminal event, and 401 as a fatal error.
import { describe, expect, it, vi } from "vitest";
import { ApiClient, type ApiError } from "../api/client";
import type { RunEvent } from "../api/types";
import { followRunSse } from "./sseStream";
import { ev, runId, successfulRun } from "./testing";

const frame = (e: RunEvent) => `id: ${e.seq}\nevent: ${e.event}\ndata: ${JSON.stringify(e)}\n\n`;

// A streaming Response whose body yields `chunks`, then ends (or stays open when `hang`).
function streamResponse(chunks: string[], hang = false): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(enc.encode(c));
      if (!hang) controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

const client = new ApiClient({ key: "grok_secret", baseUrl: "http://grok.test" });
const fastBackoff = { initialMs: 1, maxMs: 2, random: () => 1 };

describe("followRunSse", () => {
  it("parses frames split anywhere, sends the key as a Bearer header, and stops after the terminal event", async () => {
    const events = successfulRun();
    const text = `: keep-alive\n\n${events.map(frame).join("")}`;
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 37) chunks.push(text.slice(i, i + 37));
    const fetchImpl = vi.fn<typeof fetch>(async () => streamResponse(chunks, true));
    const got: RunEvent[] = [];
    const end = await followRunSse({
      client,
      runId,
      after: () => 0,
      onEvent: (e) => got.push(e),
      onError: () => {},
      signal: new AbortController().signal,
      fetchImpl,
      backoff: fastBackoff,
    });
    expect(end).toBe("ended");
    expect(got.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
    expect(got[3]).toEqual(events[3]);
    expect(fetchImpl).toHaveBeenCalledTimes(1);
    const [url, init] = fetchImpl.mock.calls[0] ?? [];
    expect(String(url)).toBe(`http://grok.test/v1/runs/${runId}/stream?after=0`);
    const headers = init?.headers as Record<string, string>;
    expect(headers.Authorization).toBe("Bearer grok_secret");
    expect(headers["Last-Event-ID"]).toBeUndefined();
  });

  it("resumes after the last seq with Last-Event-ID when the stream drops", async () => {
    const events = successfulRun();
    let last = 0;
    const fetchImpl = vi
      .fn<typeof fetch>()
      .mockResolvedValueOnce(streamResponse(events.slice(0, 5).map(frame)))
      .mockRejectedValueOnce(new TypeError("network down"))
      .mockResolvedValueOnce(streamResponse(events.slice(5).map(frame)));
    const errors: string[] = [];
    const end = await followRunSse({
      client,
      runId,
      after: () => last,
      onEvent: (e) => {
        last = e.seq;
      },
      onError: (e) => errors.push(e.message),
      signal: new AbortController().signal,
      fetchImpl,
      backoff: fastBackoff,
    });
    expect(end).toBe("ended");
    expect(last).toBe(events.length);
    expect(fetchImpl).toHaveBeenCalledTimes(3);
    const third = fetchImpl.mock.calls[2];
    expect(String(third?.[0])).toContain("after=5");
    expect((third?.[1]?.headers as Record<string, string>)["Last-Event-ID"]).toBe("5");
    expect(errors.some((m) => m.includes("network down"))).toBe(true);
  });

  it("gives up on 401 and reports it as unauthorized", async () => {
    const fetchImpl = vi.fn<typeof fetch>(async () => new Response(JSON.stringify({ title: "Unauthorized", status: 401 }), { status: 401 }));
    const errors: ApiError[] = [];
    const end = await followRunSse({
      client,
      runId,
      after: () => 0,
      onEvent: () => {},
      onError: (e, fatal) => {
        if (fatal) errors.push(e);
      },
      signal: new AbortController().signal,
      fetchImpl,
      backoff: fastBackoff,
    });
    expect(end).toBe("fatal");
    expect(errors[0]?.kind).toBe("unauthorized");
    expect(fetchImpl).toHaveBeenCalledTimes(1);
  });

  it("skips frames that are not event envelopes and stops when aborted", async () => {
    const abort = new AbortController();
    const got: number[] = [];
    const fetchImpl = vi.fn<typeof fetch>(async () =>
      streamResponse(["data: not json\n\n", "data: {\"x\":1}\n\n", frame(ev(1, "run.created"))], true),
    );
    const done = followRunSse({
      client,
      runId,
      after: () => 0,
      onEvent: (e) => {
        got.push(e.seq);
        abort.abort();
      },
      onError: () => {},
      signal: abort.signal,
      fetchImpl,
      backoff: fastBackoff,
    });
    await expect(done).resolves.toBe("aborted");
    expect(got).toEqual([1]);
  });
});
