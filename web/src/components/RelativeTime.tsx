// A time shown as "3 min ago" that keeps itself current, with the exact time in the
// <time dateTime> attribute and the title (hover) for when the exact moment matters.
import { useEffect, useState } from "react";
import { formatExactTime, formatRelative, parseTime } from "../format";

// The current time, re-read every `intervalMs` (one timer per mounted component).
export function useNow(intervalMs = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(id);
  }, [intervalMs]);
  return now;
}

export interface RelativeTimeProps {
  value: string | null | undefined;
  // Fixed "now" for tests; when absent the component ticks on its own.
  now?: number;
  className?: string;
}

export function RelativeTime({ value, now, className }: RelativeTimeProps) {
  const ticking = useNow();
  const t = parseTime(value);
  if (t === null || !value) return <span className={className}>—</span>;
  const exact = formatExactTime(t);
  return (
    <time className={className} dateTime={new Date(t).toISOString()} title={exact}>
      {formatRelative(t, now ?? ticking)}
    </time>
  );
}
