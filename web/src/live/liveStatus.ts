// The live connection's state as the UI shows it: the shared socket's state plus how many
// run views currently stream over SSE. `useLiveStatus` re-renders on every change.
import { useCallback, useSyncExternalStore } from "react";
import { useAuth } from "../api/auth";
import type { SocketState } from "./liveSocket";
import { liveSocketFor } from "./socketRegistry";
import { transportOverride, type Transport } from "./transport";

export type { Transport } from "./transport";

export type LiveLabel = "Live (WebSocket)" | "Live (SSE)" | "Polling" | "Reconnecting…";

export interface LiveStatus {
  transport: Transport;
  connected: boolean; // events arrive as they happen (WebSocket open, or an SSE stream)
  label: LiveLabel;
}

// --- SSE streams in use (a tiny external store) ---
let sseStreams = 0;
const sseListeners = new Set<() => void>();

// Counts an SSE stream as open; returns the function that counts it closed.
export function trackSseStream(): () => void {
  sseStreams += 1;
  for (const l of [...sseListeners]) l();
  let done = false;
  return () => {
    if (done) return;
    done = true;
    sseStreams -= 1;
    for (const l of [...sseListeners]) l();
  };
}

function subscribeSse(listener: () => void): () => void {
  sseListeners.add(listener);
  return () => sseListeners.delete(listener);
}

// What the indicator says for a socket state, the number of SSE streams and an override.
export function liveStatusOf(socket: SocketState | null, sse: number, forced: Transport | null): LiveStatus {
  if (forced === "poll") return { transport: "poll", connected: false, label: "Polling" };
  if (forced !== "sse" && socket === "open") return { transport: "websocket", connected: true, label: "Live (WebSocket)" };
  if (sse > 0) return { transport: "sse", connected: true, label: "Live (SSE)" };
  if (forced !== "sse" && (socket === "connecting" || socket === "reconnecting")) {
    return { transport: "websocket", connected: false, label: "Reconnecting…" };
  }
  return { transport: "poll", connected: false, label: "Polling" };
}

const noop = () => () => {};

export function useLiveStatus(): LiveStatus {
  const { client } = useAuth();
  const socket = client ? liveSocketFor(client) : null;
  const subscribeSocket = useCallback((l: () => void) => (socket ? socket.onStateChange(l) : noop()), [socket]);
  const socketState = useSyncExternalStore(subscribeSocket, () => socket?.state ?? null);
  const sse = useSyncExternalStore(subscribeSse, () => sseStreams);
  return liveStatusOf(socketState, sse, transportOverride());
}
