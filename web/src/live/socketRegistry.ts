// The one LiveSocket of each signed-in client (ApiClient), created on first use. Tests
// change the defaults (a fake WebSocket class, short backoff) with configureLiveSockets.
import type { ApiClient } from "../api/client";
import { LiveSocket, type LiveSocketOptions } from "./liveSocket";

type Defaults = Omit<LiveSocketOptions, "url">;

let defaults: Defaults = {};
let sockets = new WeakMap<ApiClient, LiveSocket>();
const created = new Set<WeakRef<LiveSocket>>();

// Options for sockets created from now on; WebSocketImpl defaults to globalThis.WebSocket
// as it is when the socket is created (so vi.stubGlobal("WebSocket", …) works too).
export function configureLiveSockets(next: Defaults): void {
  defaults = next;
}

// Closes and forgets every socket, and restores the defaults (tests).
export function resetLiveSockets(): void {
  for (const ref of created) ref.deref()?.dispose();
  created.clear();
  sockets = new WeakMap();
  defaults = {};
}

export function liveSocketFor(client: ApiClient): LiveSocket {
  let s = sockets.get(client);
  if (!s) {
    const ctor = (globalThis as { WebSocket?: LiveSocketOptions["WebSocketImpl"] }).WebSocket;
    s = new LiveSocket({ WebSocketImpl: ctor, ...defaults, url: () => client.webSocketUrl() });
    sockets.set(client, s);
    created.add(new WeakRef(s));
  }
  return s;
}
