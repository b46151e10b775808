// Formatting of durations, token counts and times for people ("1.2 s", "3 min ago").
// Pure functions; pass `now` to make them deterministic in tests.

const dash = "—";

// Milliseconds since the epoch, or null for a missing or unparsable timestamp.
export function parseTime(value: string | null | undefined): number | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : null;
}

// A duration: "850 ms", "1.2 s", "42 s", "3 min 4 s", "2 h 5 min", "3 d 4 h".
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return dash;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) {
    const s = Math.floor(ms / 100) / 10; // truncated, so 9999 ms never reads "10.0 s"
    return `${s.toFixed(1)} s`;
  }
  const totalS = Math.floor(ms / 1000);
  if (totalS < 60) return `${totalS} s`;
  const totalMin = Math.floor(totalS / 60);
  if (totalMin < 60) {
    const s = totalS % 60;
    return s ? `${totalMin} min ${s} s` : `${totalMin} min`;
  }
  const totalH = Math.floor(totalMin / 60);
  if (totalH < 24) {
    const m = totalMin % 60;
    return m ? `${totalH} h ${m} min` : `${totalH} h`;
  }
  const d = Math.floor(totalH / 24);
  const h = totalH % 24;
  return h ? `${d} d ${h} h` : `${d} d`;
}

// How long something ran: finished − started, or now − started while it still runs.
export function elapsedMs(
  startedAt: string | null | undefined,
  finishedAt: string | null | undefined,
  now: number = Date.now(),
): number | null {
  const start = parseTime(startedAt);
  if (start === null) return null;
  const end = parseTime(finishedAt) ?? now;
  return Math.max(0, end - start);
}

// A token count: "0", "987", "12,345", "123k", "1.2M".
export function formatTokens(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return dash;
  const v = Math.max(0, Math.round(n));
  if (v < 100_000) return v.toLocaleString("en-US");
  if (v < 1_000_000) return `${Math.floor(v / 1000)}k`;
  return `${(Math.floor(v / 100_000) / 10).toFixed(1)}M`;
}

// "1,234 in / 567 out".
export function formatTokensInOut(tokensIn: number | null | undefined, tokensOut: number | null | undefined): string {
  return `${formatTokens(tokensIn)} in / ${formatTokens(tokensOut)} out`;
}

// A time relative to now: "just now", "42 s ago", "3 min ago", "2 h ago", "5 d ago",
// a date after 30 days; "in 3 min" for times ahead (clock skew).
export function formatRelative(value: string | number | null | undefined, now: number = Date.now()): string {
  const t = typeof value === "number" ? value : parseTime(value);
  if (t === null || !Number.isFinite(t)) return dash;
  const diff = now - t;
  const abs = Math.abs(diff);
  let text: string;
  if (abs < 5_000) return "just now";
  if (abs < 60_000) text = `${Math.floor(abs / 1000)} s`;
  else if (abs < 3_600_000) text = `${Math.floor(abs / 60_000)} min`;
  else if (abs < 86_400_000) text = `${Math.floor(abs / 3_600_000)} h`;
  else if (abs < 30 * 86_400_000) text = `${Math.floor(abs / 86_400_000)} d`;
  else return new Date(t).toISOString().slice(0, 10);
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

// The exact time, for titles and tooltips: "2026-11-25 08:10:00 UTC" style, in local time.
export function formatExactTime(value: string | number | null | undefined): string {
  const t = typeof value === "number" ? value : parseTime(value);
  if (t === null || !Number.isFinite(t)) return dash;
  const d = new Date(t);
  const pad = (n: number) => String(n).padStart(2, "0");
  const offsetMin = -d.getTimezoneOffset();
  const sign = offsetMin >= 0 ? "+" : "-";
  const off = `${sign}${pad(Math.floor(Math.abs(offsetMin) / 60))}:${pad(Math.abs(offsetMin) % 60)}`;
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} (UTC${off})`
  );
}

// Shortens text for a table cell or a title, with an ellipsis; whitespace runs become one space.
export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  let cut = flat.slice(0, Math.max(0, max - 1));
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1); // never split a surrogate pair
  return `${cut.trimEnd()}…`;
}
