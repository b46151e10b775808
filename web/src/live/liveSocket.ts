// One WebSocket per signed-in client, shared by every subscriber: opened when the first
// subscriber comes, closed shortly after the last one leaves. Reconnects with backoff,
// pings to notice dead connections, and re-subscribes each run after the last seq its
// subscribers have, so a reconnect loses nothing. Single-threaded (the browser's event loop).
import type { Problem, RunEvent } from "../api/types";
import { isRunEvent } from "./eventLog";
import { backoffDelay, defaultBackoff, type Backoff } from "./transport";

// idle: no socket (nobody needs one); connecting: the first attempt; open; reconnecting:
// after a drop; fallback: it failed to open twice in a row (still retrying in the background).
export type SocketState = "idle" | "connecting" | "open" | "reconnecting" | "fallback";

export interface RunSubscriber {
  onEvent: (e: RunEvent) => void;
  onError?: (problem: Problem) => void;
  // The last seq this subscriber has; the server resends what follows on (re)subscribe.
  after: () => number;
}

export interface AllSubscriber {
  onEvent: (e: RunEvent) => void;
  onError?: (problem: Problem) => void;
  // Called on every open, so a list can refetch what it missed while disconnected.
  onOpen?: () => void;
}

export type WebSocketCtor = new (url: string) => WebSocket;

export interface LiveSocketOptions {
  url: () => string;
  WebSocketImpl?: WebSocketCtor | undefined;
  backoff?: Backoff;
  pingIntervalMs?: number;
  openTimeoutMs?: number;
  lingerMs?: number;
}

// After this many failed opens in a row the socket counts as unavailable (fallback).
export const failuresBeforeFallback = 2;
const closeSlowConsumer = 1008;

export class LiveSocket {
  private readonly opts: Required<Omit<LiveSocketOptions, "WebSocketImpl">> & { WebSocketImpl: WebSocketCtor | undefined };
  private ws: WebSocket | null = null;
  private state_: SocketState = "idle";
  private failures = 0; // failed opens in a row
  private attempt = 0; // reconnects since the last good connection
  private gotMessage = false;
  private pingSeq = 0;
  private pongPending = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private lingerTimer: ReturnType<typeof setTimeout> | null = null;
  private openTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private readonly runs = new Map<string, Set<RunSubscriber>>();
  private readonly all = new Set<AllSubscriber>();
  private holds = 0;
  private readonly listeners = new Set<() => void>();

  constructor(options: LiveSocketOptions) {
    this.opts = {
      url: options.url,
      WebSocketImpl: options.WebSocketImpl,
      backoff: options.backoff ?? defaultBackoff,
      pingIntervalMs: options.pingIntervalMs ?? 25_000,
      openTimeoutMs: options.openTimeoutMs ?? 10_000,
      lingerMs: options.lingerMs ?? 2_000,
    };
    if (!this.opts.WebSocketImpl) this.failures = failuresBeforeFallback;
  }

  get state(): SocketState {
    return this.state_;
  }

  // Calls `listener` on every state change; returns the unsubscribe function.
  onStateChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // Follows one run. Returns the function that stops following it.
  subscribeRun(runId: string, sub: RunSubscriber): () => void {
    let set = this.runs.get(runId);
    const first = !set;
    if (!set) {
      set = new Set();
      this.runs.set(runId, set);
    }
    set.add(sub);
    if (first && this.state_ === "open") this.sendSubscribe(runId);
    this.ensureOpen();
    return () => {
      const s = this.runs.get(runId);
      if (!s || !s.delete(sub)) return;
      if (s.size === 0) {
        this.runs.delete(runId);
        if (this.state_ === "open") this.send({ unsubscribe: runId });
      }
      this.release();
    };
  }

  // Follows every run the key may see (live only).
  subscribeAll(sub: AllSubscriber): () => void {
    const first = this.all.size === 0;
    this.all.add(sub);
    if (first && this.state_ === "open") this.send({ subscribe: "*" });
    this.ensureOpen();
    return () => {
      if (!this.all.delete(sub)) return;
      if (this.all.size === 0 && this.state_ === "open") this.send({ unsubscribe: "*" });
      this.release();
    };
  }

  // Keeps the socket open without following anything (the live indicator).
  hold(): () => void {
    this.holds += 1;
    this.ensureOpen();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds -= 1;
      this.release();
    };
  }

  // Closes for good (sign-out).
  dispose(): void {
    this.runs.clear();
    this.all.clear();
    this.holds = 0;
    this.shutdown();
  }

  private holders(): number {
    return this.runs.size + this.all.size + this.holds;
  }

  private setState(next: SocketState): void {
    if (next === this.state_) return;
    this.state_ = next;
    for (const l of [...this.listeners]) l();
  }

  private ensureOpen(): void {
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
    if (this.ws || this.reconnectTimer || this.holders() === 0) return;
    this.connect();
  }

  private release(): void {
    if (this.holders() > 0 || this.lingerTimer) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = null;
      if (this.holders() === 0) this.shutdown();
    }, this.opts.lingerMs);
  }

  private shutdown(): void {
    this.clearTimers();
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      this.detach(ws);
      try {
        ws.close(1000);
      } catch {
        // already closed
      }
    }
    this.attempt = 0;
    this.setState(this.failures >= failuresBeforeFallback ? "fallback" : "idle");
  }

  private connect(): void {
    this.reconnectTimer = null;
    const Impl = this.opts.WebSocketImpl;
    if (!Impl) {
      this.setState("fallback");
      return;
    }
    let ws: WebSocket;
    try {
      ws = new Impl(this.opts.url());
    } catch {
      this.failures += 1;
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.gotMessage = false;
    this.pongPending = false;
    if (this.state_ === "idle") this.setState(this.failures >= failuresBeforeFallback ? "fallback" : "connecting");
    ws.onopen = () => this.handleOpen(ws);
    ws.onmessage = (ev: MessageEvent) => this.handleMessage(ws, ev);
    ws.onclose = (ev: CloseEvent) => this.handleClose(ws, ev.code);
    ws.onerror = () => {
      // A close event follows; it decides what happens next.
    };
    this.openTimer = setTimeout(() => this.drop(ws, 4000), this.opts.openTimeoutMs);
  }

  private detach(ws: WebSocket): void {
    ws.onopen = null;
    ws.onmessage = null;
    ws.onclose = null;
    ws.onerror = null;
  }

  private clearTimers(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.openTimer) clearTimeout(this.openTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.reconnectTimer = null;
    this.openTimer = null;
    this.pingTimer = null;
  }

  private handleOpen(ws: WebSocket): void {
    if (ws !== this.ws) return;
    if (this.openTimer) clearTimeout(this.openTimer);
    this.openTimer = null;
    this.attempt = 0;
    this.setState("open");
    for (const runId of this.runs.keys()) this.sendSubscribe(runId);
    if (this.all.size > 0) this.send({ subscribe: "*" });
    for (const s of [...this.all]) s.onOpen?.();
    this.pingTimer = setInterval(() => {
      if (this.pongPending) {
        this.drop(ws, 4001); // no answer to the last ping: the connection is dead
        return;
      }
      this.pongPending = true;
      this.pingSeq += 1;
      this.send({ ping: this.pingSeq });
    }, this.opts.pingIntervalMs);
  }

  private handleMessage(ws: WebSocket, ev: MessageEvent): void {
    if (ws !== this.ws) return;
    if (!this.gotMessage) {
      this.gotMessage = true;
      this.failures = 0;
    }
    if (typeof ev.data !== "string") return;
    let msg: unknown;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (typeof msg !== "object" || msg === null) return;
    const m = msg as Record<string, unknown>;
    if ("pong" in m) {
      this.pongPending = false;
      return;
    }
    if (!isRunEvent(m)) {
      // {"error": problem}: events carry "error" too (run.failed), so test for them first.
      if (typeof m.error === "object" && m.error !== null) {
        const problem = m.error as Problem;
        for (const set of this.runs.values()) for (const s of [...set]) s.onError?.(problem);
        for (const s of [...this.all]) s.onError?.(problem);
      }
      return;
    }
    const subs = this.runs.get(m.run_id);
    if (subs) for (const s of [...subs]) s.onEvent(m);
    for (const s of [...this.all]) s.onEvent(m);
  }

  // Gives up on `ws` now (timeout, dead connection) and handles it as a close.
  private drop(ws: WebSocket, code: number): void {
    if (ws !== this.ws) return;
    this.detach(ws);
    try {
      ws.close();
    } catch {
      // already closed
    }
    this.handleClose(ws, code);
  }

  private handleClose(ws: WebSocket, code: number): void {
    if (ws !== this.ws) return;
    this.detach(ws);
    this.ws = null;
    this.clearTimers();
    if (this.holders() === 0) {
      this.setState(this.failures >= failuresBeforeFallback ? "fallback" : "idle");
      return;
    }
    // A socket that never carried a message (it did not open, or closed with an error
    // right away) counts as a failed open; a slow-consumer close (1008) never does.
    if (!this.gotMessage && code !== closeSlowConsumer && code !== 1000) this.failures += 1;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.setState(this.failures >= failuresBeforeFallback ? "fallback" : "reconnecting");
    const delay = backoffDelay(this.attempt, this.opts.backoff);
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private sendSubscribe(runId: string): void {
    const subs = this.runs.get(runId);
    if (!subs || subs.size === 0) return;
    let after = Number.POSITIVE_INFINITY;
    for (const s of subs) after = Math.min(after, Math.max(0, Math.floor(s.after())));
    this.send({ subscribe: runId, after: Number.isFinite(after) ? after : 0 });
  }

  private send(msg: unknown): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1) return;
    try {
      ws.send(JSON.stringify(msg));
    } catch {
      // the close event follows
    }
  }
}
