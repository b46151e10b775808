// The shared WebSocket: lazy open, subscribe with `after`, re-subscribe after a drop with
// the last seq seen, 1008 handling, errors to subscribers, fallback after failed opens,
// pings, and closing when nobody listens. Driven by a fake WebSocket and fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Problem, RunEvent } from "../api/types";
import { LiveSocket, type WebSocketCtor } from "./liveSocket";
import { backoffDelay } from "./transport";
import { ev, FakeWebSocket, runId } from "./testing";

function makeSocket() {
  return new LiveSocket({
    url: () => "ws://grok.test/v1/ws?access_token=k",
    WebSocketImpl: FakeWebSocket as unknown as WebSocketCtor,
    backoff: { initialMs: 500, maxMs: 10_000, random: () => 1 },
  });
}

describe("LiveSocket", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeWebSocket.reset();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("opens only when someone subscribes, and subscribes after the subscriber's last seq", () => {
    const s = makeSocket();
    expect(FakeWebSocket.instances).toHaveLength(0);
    expect(s.state).toBe("idle");
    const got: RunEvent[] = [];
    let last = 7;
    s.subscribeRun(runId, { onEvent: (e) => got.push(e), after: () => last });
    const ws = FakeWebSocket.last();
    expect(ws.url).toBe("ws://grok.test/v1/ws?access_token=k");
    expect(s.state).toBe("connecting");
    ws.open();
    expect(s.state).toBe("open");
    expect(ws.messages()).toEqual([{ subscribe: runId, after: 7 }]);
    ws.receive(ev(8, "step.started", "worker.E1", { attempt: 1 }));
    ws.receive({ ...ev(1, "run.created"), run_id: "run_01JDW6ZQ4V8M3N2P1K0H9G8F7F" }); // another run
    expect(got.map((e) => e.seq)).toEqual([8]);
    last = 8;

    // A drop: reconnect after the backoff, and resume after seq 8.
    ws.serverClose(1006);
    expect(s.state).toBe("reconnecting");
    vi.advanceTimersByTime(499);
    expect(FakeWebSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    const again = FakeWebSocket.last();
    expect(again).not.toBe(ws);
    again.open();
    expect(again.messages()).toEqual([{ subscribe: runId, after: 8 }]);
  });

  it("shares one socket and one server subscription between subscribers of a run", () => {
    const s = makeSocket();
    const a: number[] = [];
    const b: number[] = [];
    const stopA = s.subscribeRun(runId, { onEvent: (e) => a.push(e.seq), after: () => 3 });
    s.subscribeRun(runId, { onEvent: (e) => b.push(e.seq), after: () => 5 });
    const ws = FakeWebSocket.last();
    ws.open();
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(ws.messages()).toEqual([{ subscribe: runId, after: 3 }]);
    ws.receive(ev(4, "tool.requested", "worker.E1"));
    expect(a).toEqual([4]);
    expect(b).toEqual([4]);
    stopA();
    expect(ws.messages()).toHaveLength(1); // the other subscriber still follows the run
  });

  it("reconnects and resumes after a slow-consumer close (1008) without counting a failure", () => {
    const s = makeSocket();
    s.subscribeRun(runId, { onEvent: () => {}, after: () => 12 });
    FakeWebSocket.last().open();
    FakeWebSocket.last().receive(ev(12, "step.started", "worker.E1"));
    FakeWebSocket.last().serverClose(1008);
    expect(s.state).toBe("reconnecting");
    vi.advanceTimersByTime(500);
    const ws = FakeWebSocket.last();
    expect(FakeWebSocket.instances).toHaveLength(2);
    ws.open();
    expect(ws.messages()).toEqual([{ subscribe: runId, after: 12 }]);
  });

  it("passes {error: problem} messages to the subscribers", () => {
    const s = makeSocket();
    const problems: Problem[] = [];
    s.subscribeRun(runId, { onEvent: () => {}, onError: (p) => problems.push(p), after: () => 0 });
    FakeWebSocket.last().open();
    FakeWebSocket.last().receive({ error: { type: "about:blank", title: "Not Found", status: 404, detail: `run ${runId} not found` } });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.detail).toContain("not found");
  });

  it("delivers run.failed (an event with an error field) as an event, not as a problem", () => {
    const s = makeSocket();
    const problems: Problem[] = [];
    const got: string[] = [];
    s.subscribeRun(runId, { onEvent: (e) => got.push(e.event), onError: (p) => problems.push(p), after: () => 0 });
    FakeWebSocket.last().open();
    FakeWebSocket.last().receive(ev(5, "run.failed", undefined, { error: { code: "deadline", message: "late" }, usage: {} }));
    expect(got).toEqual(["run.failed"]);
    expect(problems).toHaveLength(0);
  });

  it("falls back after two failed opens in a row, and keeps retrying with growing backoff", () => {
    const s = makeSocket();
    const seen: string[] = [];
    s.onStateChange(() => seen.push(s.state));
    s.subscribeRun(runId, { onEvent: () => {}, after: () => 0 });
    FakeWebSocket.last().fail(); // e.g. 401 at the upgrade
    expect(s.state).toBe("reconnecting");
    vi.advanceTimersByTime(500);
    FakeWebSocket.last().fail();
    expect(s.state).toBe("fallback");
    vi.advanceTimersByTime(999);
    expect(FakeWebSocket.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(3);
    FakeWebSocket.last().open();
    expect(s.state).toBe("open");
    expect(seen).toEqual(["connecting", "reconnecting", "fallback", "open"]);
  });

  it("counts a socket that opens but closes with an error before any message as a failure", () => {
    const s = makeSocket();
    s.subscribeRun(runId, { onEvent: () => {}, after: () => 0 });
    for (let i = 0; i < 2; i += 1) {
      FakeWebSocket.last().open();
      FakeWebSocket.last().serverClose(1011);
      vi.advanceTimersByTime(500);
    }
    expect(s.state).toBe("fallback");
  });

  it("pings every 25 s and drops a connection that stops answering", () => {
    const s = makeSocket();
    s.subscribeRun(runId, { onEvent: () => {}, after: () => 0 });
    const ws = FakeWebSocket.last();
    ws.open();
    ws.receive(ev(1, "run.created"));
    vi.advanceTimersByTime(25_000);
    expect(ws.messages().at(-1)).toEqual({ ping: 1 });
    ws.receive({ pong: 1 });
    vi.advanceTimersByTime(25_000);
    expect(ws.messages().at(-1)).toEqual({ ping: 2 });
    vi.advanceTimersByTime(25_000); // no pong for ping 2
    expect(ws.closedByClient).toBe(true);
    expect(s.state).toBe("reconnecting");
  });

  it("follows all runs with '*', and tells the list on every open", () => {
    const s = makeSocket();
    const opens = vi.fn();
    const types: string[] = [];
    const stop = s.subscribeAll({ onEvent: (e) => types.push(e.event), onOpen: opens });
    const ws = FakeWebSocket.last();
    ws.open();
    expect(ws.messages()).toEqual([{ subscribe: "*" }]);
    expect(opens).toHaveBeenCalledTimes(1);
    ws.receive(ev(3, "run.completed"));
    expect(types).toEqual(["run.completed"]);
    stop();
    expect(ws.messages().at(-1)).toEqual({ unsubscribe: "*" });
  });

  it("unsubscribes a run when its last subscriber leaves and closes after a linger", () => {
    const s = makeSocket();
    const stop = s.subscribeRun(runId, { onEvent: () => {}, after: () => 0 });
    const ws = FakeWebSocket.last();
    ws.open();
    stop();
    expect(ws.messages().at(-1)).toEqual({ unsubscribe: runId });
    expect(ws.closedByClient).toBe(false);
    vi.advanceTimersByTime(2000);
    expect(ws.closedByClient).toBe(true);
    expect(s.state).toBe("idle");
  });

  it("is in fallback at once when the browser has no WebSocket", () => {
    const s = new LiveSocket({ url: () => "ws://x", WebSocketImpl: undefined });
    s.subscribeRun(runId, { onEvent: () => {}, after: () => 0 });
    expect(s.state).toBe("fallback");
  });
});

describe("backoffDelay", () => {
  it("doubles from 0.5 s to at most 10 s, with jitter down to half", () => {
    const hi = { initialMs: 500, maxMs: 10_000, random: () => 1 };
    const lo = { ...hi, random: () => 0 };
    expect([0, 1, 2, 3, 4, 5, 9].map((a) => backoffDelay(a, hi))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(backoffDelay(0, lo)).toBe(250);
    expect(backoffDelay(9, lo)).toBe(5000);
  });
});
