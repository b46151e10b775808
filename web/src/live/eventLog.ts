// A run's events as the UI keeps them: in seq order, without duplicates or gaps, with
// consecutive llm.delta events merged into one entry and a cap on how many entries stay in
// memory. Pure functions over an immutable value, so React can hold it in state.
import type { RunEvent } from "../api/types";

// One timeline entry: an event, or several consecutive llm.delta events merged into one
// (then `delta` is their text joined, `coalesced` how many there were, `last_seq` the last).
export type TimelineEntry = RunEvent & { coalesced?: number; last_seq?: number };

export interface EventLog {
  entries: TimelineEntry[];
  // The highest seq applied; every seq from 1 up to it has been seen (or folded).
  lastSeq: number;
  // Events that arrived ahead of a gap, held until the missing ones are fetched.
  pending: ReadonlyMap<number, RunEvent>;
  // Entries dropped from memory to respect the cap (their effect on the view may be lost;
  // the run's own step rows from the REST API fill that in).
  folded: number;
  // Characters of streamed text dropped because the answer grew past the cap.
  droppedText: number;
  // A terminal event (run.completed / run.failed / run.cancelled) has been applied.
  ended: boolean;
}

export const maxEntries = 5000;
export const maxPending = 2000;
export const maxAnswerChars = 1_000_000;

export const terminalEvents: readonly string[] = ["run.completed", "run.failed", "run.cancelled"];
// Events that shape the view for good: never folded away by the cap.
const keptEvents = new Set(["run.created", "plan.created", "run.awaiting_input", ...terminalEvents]);

export const emptyLog: EventLog = {
  entries: [],
  lastSeq: 0,
  pending: new Map(),
  folded: 0,
  droppedText: 0,
  ended: false,
};

// True when `value` looks like an event envelope (the fields the log relies on).
export function isRunEvent(value: unknown): value is RunEvent {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.event === "string" && typeof v.seq === "number" && Number.isInteger(v.seq) && v.seq >= 1;
}

// Events known to be missing: the log holds events past a gap.
export function hasGap(log: EventLog): boolean {
  return log.pending.size > 0;
}

function appendOne(entries: TimelineEntry[], e: RunEvent, log: { droppedText: number }): void {
  const last = entries[entries.length - 1];
  if (e.event === "llm.delta") {
    const text = typeof e.delta === "string" ? e.delta : "";
    if (last && last.event === "llm.delta" && last.step_id === e.step_id) {
      const prev = typeof last.delta === "string" ? last.delta : "";
      const room = Math.max(0, maxAnswerChars - prev.length);
      const kept = text.length <= room ? text : text.slice(0, room);
      log.droppedText += text.length - kept.length;
      entries[entries.length - 1] = {
        ...last,
        delta: prev + kept,
        coalesced: (last.coalesced ?? 1) + 1,
        last_seq: e.seq,
        ts: e.ts,
      };
      return;
    }
    const kept = text.length <= maxAnswerChars ? text : text.slice(0, maxAnswerChars);
    log.droppedText += text.length - kept.length;
    entries.push({ ...e, delta: kept, coalesced: 1, last_seq: e.seq });
    return;
  }
  entries.push(e);
}

// Drops the oldest foldable entries until at most `maxEntries` remain.
function fold(entries: TimelineEntry[]): { entries: TimelineEntry[]; folded: number } {
  if (entries.length <= maxEntries) return { entries, folded: 0 };
  let excess = entries.length - maxEntries;
  let folded = 0;
  const out: TimelineEntry[] = [];
  for (const e of entries) {
    if (excess > 0 && !keptEvents.has(e.event)) {
      excess -= 1;
      folded += e.coalesced ?? 1;
      continue;
    }
    out.push(e);
  }
  return { entries: out, folded };
}

// Applies `incoming` (any order, duplicates allowed). Events past a gap wait in `pending`;
// `skipGap` gives up on missing events (after a fill found none) and applies what waits.
export function appendEvents(log: EventLog, incoming: readonly unknown[], skipGap = false): EventLog {
  const pending = new Map(log.pending);
  for (const raw of incoming) {
    if (!isRunEvent(raw)) continue;
    if (raw.seq <= log.lastSeq || pending.has(raw.seq)) continue;
    pending.set(raw.seq, raw);
  }
  if (pending.size === log.pending.size && !skipGap) return log;

  const entries = log.entries.slice();
  const acc = { droppedText: log.droppedText };
  let lastSeq = log.lastSeq;
  let ended = log.ended;
  const order = [...pending.keys()].sort((a, b) => a - b);
  for (const seq of order) {
    if (seq !== lastSeq + 1 && !skipGap) break;
    const e = pending.get(seq);
    pending.delete(seq);
    if (!e) continue;
    lastSeq = seq;
    appendOne(entries, e, acc);
    if (terminalEvents.includes(e.event)) ended = true;
  }
  // Too many held back: something is badly wrong with the feed; drop the oldest held.
  while (pending.size > maxPending) {
    const oldest = Math.min(...pending.keys());
    pending.delete(oldest);
  }
  const folded = fold(entries);
  return {
    entries: folded.entries,
    lastSeq,
    pending,
    folded: log.folded + folded.folded,
    droppedText: acc.droppedText,
    ended,
  };
}
