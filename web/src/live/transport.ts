// Which live transport to use, and the reconnect backoff every transport shares.
// localStorage "grok.transport" = "websocket" | "sse" | "poll" forces one (tests, debugging).
export type Transport = "websocket" | "sse" | "poll";

export const transportStorageKey = "grok.transport";
export const pollIntervalMs = 2000;

// The forced transport, or null to choose automatically.
export function transportOverride(): Transport | null {
  let v: string | null = null;
  try {
    v = localStorage.getItem(transportStorageKey);
  } catch {
    return null;
  }
  return v === "websocket" || v === "sse" || v === "poll" ? v : null;
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
  random: () => number;
}

export const defaultBackoff: Backoff = { initialMs: 500, maxMs: 10_000, random: Math.random };

// The delay before reconnect attempt `attempt` (0-based): doubling from initialMs up to
// maxMs, with jitter taking it down to half at random so clients do not reconnect in step.
export function backoffDelay(attempt: number, b: Backoff = defaultBackoff): number {
  const base = Math.min(b.maxMs, b.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.5 + 0.5 * b.random()));
}

// Resolves after `ms`, or at once when `signal` aborts.
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(() => {
      signal.removeEventListener("abort", done);
      resolve();
    }, ms);
    const done = () => {
      clearTimeout(t);
      resolve();
    };
    signal.addEventListener("abort", done, { once: true });
  });
}
