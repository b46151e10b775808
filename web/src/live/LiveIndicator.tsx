// A small badge saying how the page gets its live updates ("Live (WebSocket)", "Live
// (SSE)", "Polling", "Reconnecting…"). It keeps the shared socket open while shown.
import { useEffect } from "react";
import { useAuth } from "../api/auth";
import { liveSocketFor } from "./socketRegistry";
import { transportOverride } from "./transport";
import { useLiveStatus } from "./liveStatus";

export function LiveIndicator() {
  const { client } = useAuth();
  const status = useLiveStatus();
  useEffect(() => {
    if (!client) return;
    const forced = transportOverride();
    if (forced === "sse" || forced === "poll") return;
    return liveSocketFor(client).hold();
  }, [client]);
  return (
    <span role="status" aria-label="Live updates" className={`live-indicator live-${status.transport}${status.connected ? " live-on" : ""}`}>
      <span className="live-dot" aria-hidden="true" />
      {status.label}
    </span>
  );
}
