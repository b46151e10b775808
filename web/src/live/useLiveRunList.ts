// Keeps the runs list fresh: follows "*" over the shared WebSocket and, on run.*,
// plan.created and step.* events, patches the status of the runs already in the react-query
// cache (key prefix runsQueryKey) and refetches the list soon after. Without a WebSocket the
// page polls: pass `refetchInterval` to its query.
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useSyncExternalStore } from "react";
import { useAuth } from "../api/auth";
import type { Run, RunEvent, RunStatus } from "../api/types";
import { runsQueryKey } from "./queryKeys";
import { liveSocketFor } from "./socketRegistry";
import { pollIntervalMs, transportOverride, type Transport } from "./transport";

export interface LiveRunList {
  // For react-query's refetchInterval: false while the WebSocket keeps the list fresh.
  refetchInterval: number | false;
  transport: Transport;
}

// How long to gather events before refetching the list.
export const listRefreshDebounceMs = 300;

const statusAfter: Record<string, RunStatus> = {
  "run.created": "queued",
  "plan.created": "running",
  "step.started": "running",
  "run.awaiting_input": "awaiting_input",
  "run.completed": "completed",
  "run.failed": "failed",
  "run.cancelled": "cancelled",
};

// True for the events that change what a runs list shows.
export function affectsRunList(type: string): boolean {
  return type.startsWith("run.") || type === "plan.created" || type.startsWith("step.");
}

function patchRuns(value: unknown, runId: string, status: RunStatus): unknown {
  const patchList = (list: unknown): unknown => {
    if (!Array.isArray(list)) return list;
    let changed = false;
    const out = list.map((r: unknown) => {
      const run = r as Run;
      if (!run || typeof run !== "object" || run.id !== runId || run.status === status) return r;
      changed = true;
      return { ...run, status };
    });
    return changed ? out : list;
  };
  if (Array.isArray(value)) return patchList(value);
  if (typeof value !== "object" || value === null) return value;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v.data)) {
    const data = patchList(v.data);
    return data === v.data ? value : { ...v, data };
  }
  if (Array.isArray(v.pages)) {
    const pages = v.pages.map((p) => patchRuns(p, runId, status));
    return pages.every((p, i) => p === (v.pages as unknown[])[i]) ? value : { ...v, pages };
  }
  return value;
}

// Sets the status of run `runId` in every cached runs list (plain, paged or infinite).
export function patchRunStatus(queryClient: QueryClient, runId: string, status: RunStatus): void {
  queryClient.setQueriesData({ queryKey: runsQueryKey }, (old: unknown) => patchRuns(old, runId, status));
}

export function useLiveRunList(): LiveRunList {
  const { client } = useAuth();
  const queryClient = useQueryClient();
  const socket = client ? liveSocketFor(client) : null;
  const subscribeSocket = useCallback((l: () => void) => (socket ? socket.onStateChange(l) : () => {}), [socket]);
  const socketState = useSyncExternalStore(subscribeSocket, () => socket?.state ?? "fallback");
  const forced = transportOverride();
  const useSocket = forced === null || forced === "websocket";
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    if (!socket || !useSocket) return;
    const refresh = () => {
      if (timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = null;
        void queryClient.invalidateQueries({ queryKey: runsQueryKey });
      }, listRefreshDebounceMs);
    };
    const unsubscribe = socket.subscribeAll({
      onEvent: (e: RunEvent) => {
        if (!affectsRunList(e.event)) return;
        const status = statusAfter[e.event];
        if (status && typeof e.run_id === "string") patchRunStatus(queryClient, e.run_id, status);
        refresh();
      },
      // Events missed while disconnected are not replayed for "*": refetch instead.
      onOpen: refresh,
    });
    return () => {
      unsubscribe();
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
    };
  }, [socket, useSocket, queryClient]);

  const live = useSocket && socketState === "open";
  return {
    refetchInterval: live ? false : pollIntervalMs,
    transport: live ? "websocket" : "poll",
  };
}
