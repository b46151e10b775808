// The run's events in seq order: type, seq and time, with a short plain-text detail.
// Merged llm.delta runs show as one line; only the latest entries render until asked.
import { useState } from "react";
import type { TimelineEntry } from "../live/eventLog";
import { truncate } from "../format";

export interface TimelineProps {
  events: readonly TimelineEntry[];
  folded?: number; // entries dropped from memory
  loading?: boolean;
}

export const timelineShown = 300;

function clock(ts: string): string {
  const t = Date.parse(ts);
  if (!Number.isFinite(t)) return ts;
  const d = new Date(t);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

const str = (v: unknown): string | null => (typeof v === "string" && v ? v : null);

// A few words about the event, from its own fields (never HTML).
export function eventDetail(e: TimelineEntry): string {
  const who = str(e.name)?.replace(/^worker\./, "") ?? "";
  const err = (v: unknown) => str(v) ?? str((v as { message?: unknown } | null)?.message) ?? "";
  switch (e.event) {
    case "llm.delta":
      return `${who} streamed ${typeof e.delta === "string" ? e.delta.length.toLocaleString("en-US") : 0} characters`;
    case "step.started":
      return `${who} attempt ${typeof e.attempt === "number" ? e.attempt : 1}${str(e.tool) ? ` (${str(e.tool)})` : ""}`;
    case "tool.requested":
      return `${who} calls ${str(e.tool) ?? "a tool"}`;
    case "tool.result":
      return `${who} ${str(e.tool) ?? ""} ${e.status === "ok" ? "ok" : `error: ${err(e.error)}`}`;
    case "step.retrying":
      return `${who} retries after attempt ${String(e.attempt ?? "?")}: ${err(e.error)}`;
    case "step.completed":
      return `${who} done`;
    case "step.failed":
      return `${who} failed: ${err(e.error)}`;
    case "plan.created":
      return `${who} planned ${Array.isArray((e.plan as { steps?: unknown })?.steps) ? (e.plan as { steps: unknown[] }).steps.length : 0} steps${e.replan === true ? " (replan)" : ""}${e.edited === true ? " (edited)" : ""}`;
    case "run.failed":
    case "run.cancelled":
      return err(e.error);
    default:
      return who;
  }
}

export function Timeline({ events, folded = 0, loading = false }: TimelineProps) {
  const [all, setAll] = useState(false);
  const hidden = all ? 0 : Math.max(0, events.length - timelineShown);
  const shown = hidden ? events.slice(hidden) : events;
  return (
    <section aria-label="Timeline" className="panel run-timeline">
      <h2>Timeline</h2>
      {folded > 0 ? <p className="muted">{folded.toLocaleString("en-US")} older events are not kept in memory.</p> : null}
      {hidden > 0 ? (
        <button type="button" className="button small" onClick={() => setAll(true)}>
          Show {hidden.toLocaleString("en-US")} earlier events
        </button>
      ) : null}
      {events.length === 0 ? (
        <p className="muted">{loading ? "Loading events…" : "No events yet."}</p>
      ) : (
        <ol className="timeline">
          {shown.map((e) => {
            const seq = e.last_seq && e.last_seq !== e.seq ? `${e.seq}–${e.last_seq}` : String(e.seq);
            return (
              <li key={e.seq} className={`tl-item tl-${e.event.replace(/[^a-z]/g, "-")}`}>
                <span className="tl-seq">#{seq}</span>
                <code className="tl-type">
                  {e.event}
                  {e.coalesced && e.coalesced > 1 ? ` ×${e.coalesced}` : ""}
                </code>
                <time className="tl-time" dateTime={e.ts}>
                  {clock(e.ts)}
                </time>
                <span className="tl-detail">{truncate(eventDetail(e), 160)}</span>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
