// useRunEvents against a fake server (fetch) and a fake WebSocket (stubbed global): history
// then live, dedupe, gap fill over REST, resubscribe after a drop, SSE fallback, polling.
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RunEvent } from "../api/types";
import { fakeApi, problemResponse, type FakeApi } from "../test/fakeApi";
import { Providers, presetKey, testKey, testQueryClient } from "../test/render";
import { ev, FakeWebSocket, runId, successfulRun, installFakeLiveSockets, removeFakeLiveSockets } from "./testing";
import { useRunEvents } from "./useRunEvents";

const frame = (e: RunEvent) => `id: ${e.seq}\nevent: ${e.event}\ndata: ${JSON.stringify(e)}\n\n`;

function wrapper({ children }: { children: ReactNode }) {
  return <Providers queryClient={testQueryClient()}>{children}</Providers>;
}

// A server that stores `stored` and pages them like GET /v1/runs/{id}/events.
function serverWith(stored: RunEvent[]): FakeApi {
  return fakeApi({
    "GET /v1/runs/:id/events": (req) => {
      const after = Number(req.url.searchParams.get("after") ?? 0);
      const limit = Number(req.url.searchParams.get("limit") ?? 100);
      const data = stored.filter((e) => e.seq > after).slice(0, limit);
      return { data, next_after: data.at(-1)?.seq ?? after };
    },
  });
}

const seqs = (events: readonly RunEvent[]) => events.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("useRunEvents", () => {
  let events: RunEvent[];
  beforeEach(() => {
    events = successfulRun();
    installFakeLiveSockets();
    presetKey(testKey, null);
  });
  afterEach(() => {
    removeFakeLiveSockets();
  });

  it("loads the history, then follows the run over the WebSocket without duplicates", async () => {
    const api = serverWith(events.slice(0, 6));
    vi.stubGlobal("fetch", api.fetch);
    const { result } = renderHook(() => useRunEvents(runId), { wrapper });
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    expect(seqs(result.current.events)).toEqual(range(1, 6));
    expect(result.current.loading).toBe(false);
    const ws = FakeWebSocket.last();
    expect(ws.url).toContain("/v1/ws?access_token=grok_test_key");
    act(() => ws.open());
    expect(ws.messages()).toEqual([{ subscribe: runId, after: 6 }]);
    act(() => {
      ws.receive(events[5]); // a duplicate of seq 6
      ws.receive(events[6]);
      ws.receive(events[6]);
      ws.receive(events[7]);
    });
    expect(seqs(result.current.events)).toEqual(range(1, 8));
    expect(result.current.transport).toBe("websocket");
    expect(api.calls("GET /v1/runs/" + runId + "/events")).toHaveLength(1);
  });

  it("pages through a long history", async () => {
    const long: RunEvent[] = [...events.slice(0, 4)];
    for (let s = 5; s <= 1203; s += 1) long.push(ev(s, "tool.result", "worker.E1", { tool: "calculator", status: "ok", output: "1" }));
    const api = serverWith(long);
    vi.stubGlobal("fetch", api.fetch);
    const { result } = renderHook(() => useRunEvents(runId), { wrapper });
    await waitFor(() => expect(result.current.loading).toBe(false));
    expect(result.current.lastSeq).toBe(1203);
    const afters = api.calls(`GET /v1/runs/${runId}/events`).map((r) => r.url.searchParams.get("after"));
    expect(afters).toEqual(["0", "1000"]);
  });

  it("fetches a missing range over REST when the seq jumps", async () => {
    const api = serverWith(events.slice(0, 3));
    vi.stubGlobal("fetch", api.fetch);
    const { result } = renderHook(() => useRunEvents(runId), { wrapper });
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    act(() => FakeWebSocket.last().open());
    // The server stored 4..9 meanwhile; the socket only delivers 9.
    api.on(`GET /v1/runs/:id/events`, (req) => {
      const after = Number(req.url.searchParams.get("after"));
      return { data: events.filter((e) => e.seq > after && e.seq <= 9), next_after: 9 };
    });
    act(() => FakeWebSocket.last().receive(events[8]));
    await waitFor(() => expect(seqs(result.current.events)).toEqual(range(1, 9)));
    const afters = api.calls(`GET /v1/runs/${runId}/events`).map((r) => r.url.searchParams.get("after"));
    expect(afters).toEqual(["0", "3"]);
  });

  it("resubscribes after the last seq it has when the socket drops", async () => {
    vi.stubGlobal("fetch", serverWith(events.slice(0, 2)).fetch);
    const { result } = renderHook(() => useRunEvents(runId), { wrapper });
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    act(() => FakeWebSocket.last().open());
    act(() => FakeWebSocket.last().receive(events[2]));
    act(() => FakeWebSocket.last().serverClose(1008));
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(2));
    act(() => FakeWebSocket.last().open());
    expect(FakeWebSocket.last().messages()).toEqual([{ subscribe: runId, after: 3 }]);
    act(() => FakeWebSocket.last().receive(events[3]));
    expect(seqs(result.current.events)).toEqual(range(1, 4));
  });

  it("falls back to SSE after two failed WebSocket opens, resuming after the last seq", async () => {
    const api = serverWith(events.slice(0, 4));
    api.on("GET /v1/runs/:id/stream", () => {
      const body = events.slice(4).map(frame).join("");
      return new Response(new TextEncoder().encode(body), { status: 200, headers: { "Content-Type": "text/event-stream" } });
    });
    vi.stubGlobal("fetch", api.fetch);
    const { result } = renderHook(() => useRunEvents(runId), { wrapper });
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    act(() => FakeWebSocket.last().fail());
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(2));
    act(() => FakeWebSocket.last().fail());
    await waitFor(() => expect(result.current.ended).toBe(true));
    expect(result.current.transport).toBe("sse");
    expect(seqs(result.current.events).at(-1)).toBe(events.length);
    expect(result.current.events.filter((e) => e.event === "llm.delta")).toHaveLength(1); // merged
    const stream = api.calls(`GET /v1/runs/${runId}/stream`);
    expect(stream).toHaveLength(1);
    expect(stream[0]?.headers.authorization).toBe("Bearer grok_test_key_0123456789");
    expect(stream[0]?.headers["last-event-id"]).toBe("4");
  });

  it("uses SSE at once when localStorage forces it", async () => {
    localStorage.setItem("grok.transport", "sse");
    const api = serverWith([]);
    api.on("GET /v1/runs/:id/stream", () => new Response(events.map(frame).join(""), { status: 200 }));
    vi.stubGlobal("fetch", api.fetch);
    const { result } = renderHook(() => useRunEvents(runId), { wrapper });
    await waitFor(() => expect(result.current.ended).toBe(true));
    expect(FakeWebSocket.instances).toHaveLength(0);
    expect(result.current.transport).toBe("sse");
  });

  it("polls the events route when localStorage forces polling", async () => {
    localStorage.setItem("grok.transport", "poll");
    const stored = events.slice(0, 2);
    const api = serverWith(stored);
    vi.stubGlobal("fetch", api.fetch);
    const { result } = renderHook(() => useRunEvents(runId), { wrapper });
    await waitFor(() => expect(result.current.lastSeq).toBe(2));
    stored.push(...events.slice(2));
    await waitFor(() => expect(result.current.ended).toBe(true), { timeout: 15_000 });
    expect(result.current.transport).toBe("poll");
    expect(FakeWebSocket.instances).toHaveLength(0);
  });

  it("shows a problem the socket reports", async () => {
    vi.stubGlobal("fetch", serverWith(events.slice(0, 1)).fetch);
    const { result } = renderHook(() => useRunEvents(runId), { wrapper });
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    act(() => FakeWebSocket.last().open());
    act(() => FakeWebSocket.last().receive({ error: { type: "about:blank", title: "Conflict", status: 409, detail: "already subscribed" } }));
    expect(result.current.error).toBe("already subscribed");
  });

  it("signs out when the history request is refused (401)", async () => {
    const api = fakeApi({ "GET /v1/runs/:id/events": () => problemResponse(401, "Unauthorized", "unknown key") });
    vi.stubGlobal("fetch", api.fetch);
    renderHook(() => useRunEvents(runId), { wrapper });
    await waitFor(() => expect(localStorage.getItem("grok.apiKey")).toBeNull());
  });
});
