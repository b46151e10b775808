// A run's events for the run page: the stored history first (GET /v1/runs/{id}/events,
// paged), then live over the shared WebSocket, or SSE when the WebSocket is unavailable,
// or polling when forced. Events come out in seq order with no duplicates and no gaps
// (a jump in seq fetches the missing range); llm.delta events are merged (see eventLog).
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { useAuth } from "../api/auth";
import { ApiError, type ApiClient } from "../api/client";
import type { Problem, RunEvent } from "../api/types";
import { appendEvents, emptyLog, hasGap, type EventLog, type TimelineEntry } from "./eventLog";
import { trackSseStream } from "./liveStatus";
import { liveSocketFor } from "./socketRegistry";
import { followRunSse } from "./sseStream";
import { pollIntervalMs, transportOverride, type Transport } from "./transport";

export interface RunEventsState {
  events: TimelineEntry[]; // ordered by seq, deduplicated, gapless; llm.delta runs merged
  transport: Transport; // what brings new events
  error: string | null; // the latest problem with the feed, for a notice
  loading: boolean; // the stored history has not arrived yet
  ended: boolean; // the terminal event is in
  lastSeq: number;
  folded: number; // entries dropped from memory (cap)
}

const pageLimit = 1000;
const maxPages = 200; // 200 000 events: far more than a run can have

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : "Loading the run's events failed.";
}

function problemText(p: Problem): string {
  return p.detail ?? p.title ?? "The live feed reported an error.";
}

// Fetches every stored event after the log's last seq (paged) into the log.
async function fillFrom(
  client: ApiClient,
  runId: string,
  log: () => EventLog,
  apply: (events: unknown[], skipGap?: boolean) => void,
  signal: AbortSignal,
): Promise<void> {
  for (let page = 0; page < maxPages && !signal.aborted; page += 1) {
    const before = log().lastSeq;
    const gap = hasGap(log());
    // Read defensively: `data` is checked below rather than trusted.
    const body: { data?: unknown } | null = await client.runEvents(runId, before, pageLimit, signal);
    if (signal.aborted) return;
    const data = Array.isArray(body?.data) ? (body.data as unknown[]) : [];
    apply(data);
    if (data.length === 0) {
      // The server has nothing after `before`: what waits past the gap is all there is.
      if (gap) apply([], true);
      return;
    }
    if (log().lastSeq <= before) {
      apply([], true);
      return;
    }
    if (data.length < pageLimit && !hasGap(log())) return;
  }
}

export function useRunEvents(runId: string | undefined): RunEventsState {
  const { client, signOut } = useAuth();
  const logRef = useRef<EventLog>(emptyLog);
  const [log, setLog] = useState<EventLog>(emptyLog);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const filling = useRef<{ promise: Promise<void>; signal: AbortSignal } | null>(null);
  const fillAgain = useRef(false);
  const stopLive = useRef<(() => void) | null>(null);

  const socket = client ? liveSocketFor(client) : null;
  const subscribeSocket = useCallback((l: () => void) => (socket ? socket.onStateChange(l) : () => {}), [socket]);
  const socketState = useSyncExternalStore(subscribeSocket, () => socket?.state ?? "fallback");
  const forced = transportOverride();
  const transport: Transport = forced ?? (socketState === "fallback" ? "sse" : "websocket");

  const apply = useCallback((events: unknown[], skipGap = false) => {
    const next = appendEvents(logRef.current, events, skipGap);
    if (next === logRef.current) return;
    const justEnded = next.ended && !logRef.current.ended;
    logRef.current = next;
    setLog(next);
    if (justEnded) stopLive.current?.(); // nothing follows the terminal event
  }, []);

  const fail = useCallback(
    (e: unknown) => {
      if (e instanceof DOMException && e.name === "AbortError") return;
      if (e instanceof ApiError && e.kind === "unauthorized") signOut(e.message);
      setError(messageOf(e));
    },
    [signOut],
  );

  // One fill at a time; a request for another while one runs makes it go round again.
  const fill = useCallback(
    (signal: AbortSignal): Promise<void> => {
      if (!client || !runId) return Promise.resolve();
      if (filling.current && !filling.current.signal.aborted) {
        fillAgain.current = true;
        return filling.current.promise;
      }
      const run = async () => {
        do {
          fillAgain.current = false;
          await fillFrom(client, runId, () => logRef.current, apply, signal);
        } while (fillAgain.current && !signal.aborted);
      };
      const entry = { signal, promise: Promise.resolve() };
      entry.promise = run()
        .then(() => {
          if (!signal.aborted) setError(null);
        })
        .catch((e: unknown) => {
          if (!signal.aborted) fail(e);
        })
        .finally(() => {
          if (filling.current === entry) filling.current = null;
        });
      filling.current = entry;
      return entry.promise;
    },
    [client, runId, apply, fail],
  );

  // A new run: start over.
  useEffect(() => {
    logRef.current = emptyLog;
    setLog(emptyLog);
    setLoading(true);
    setError(null);
  }, [runId, client]);

  // History, then the live feed of the chosen transport until the terminal event.
  useEffect(() => {
    if (!client || !runId || !socket) return;
    const abort = new AbortController();
    const stops: (() => void)[] = [];
    const stopAll = () => {
      for (const stop of stops.splice(0)) stop();
    };
    stopLive.current = stopAll;
    void fill(abort.signal).then(() => {
      if (abort.signal.aborted) return;
      setLoading(false);
      if (logRef.current.ended) return;
      if (transport === "websocket") {
        stops.push(
          socket.subscribeRun(runId, {
            after: () => logRef.current.lastSeq,
            onEvent: (e: RunEvent) => apply([e]),
            onError: (p) => setError(problemText(p)),
          }),
        );
      } else if (transport === "sse") {
        const untrack = trackSseStream();
        const sse = new AbortController();
        stops.push(() => sse.abort(), untrack);
        void followRunSse({
          client,
          runId,
          after: () => logRef.current.lastSeq,
          onEvent: (e) => apply([e]),
          onOpen: () => setError(null),
          onError: (e) => {
            if (e.kind === "unauthorized") signOut(e.message);
            setError(e.message);
          },
          signal: sse.signal,
        }).finally(untrack);
      } else {
        const timer = setInterval(() => void fill(abort.signal), pollIntervalMs);
        stops.push(() => clearInterval(timer));
      }
    });
    return () => {
      abort.abort();
      stopAll();
      if (stopLive.current === stopAll) stopLive.current = null;
    };
  }, [client, runId, socket, transport, fill, apply, signOut]);

  // A jump in seq: fetch what is missing.
  const gap = hasGap(log);
  useEffect(() => {
    if (!gap) return;
    const abort = new AbortController();
    void fill(abort.signal);
    return () => abort.abort();
  }, [gap, fill]);

  return {
    events: log.entries,
    transport,
    error,
    loading,
    ended: log.ended,
    lastSeq: log.lastSeq,
    folded: log.folded,
  };
}
