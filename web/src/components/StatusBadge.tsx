// A coloured badge with the status word (run statuses and step states); the word is the
// information, the colour only helps.
export type StatusTone = "ok" | "bad" | "run" | "warn" | "idle";

const tones: Record<string, StatusTone> = {
  completed: "ok",
  done: "ok",
  succeeded: "ok",
  failed: "bad",
  error: "bad",
  dead: "bad",
  running: "run",
  retrying: "run",
  leased: "run",
  awaiting_input: "warn",
  queued: "idle",
  waiting: "idle",
  pending: "idle",
  ready: "idle",
  cancelled: "idle",
  skipped: "idle",
};

export function statusTone(status: string): StatusTone {
  return tones[status] ?? "idle";
}

export interface StatusBadgeProps {
  status: string;
  // Text to show instead of the status word (the colour still follows `status`).
  label?: string;
  className?: string;
}

export function StatusBadge({ status, label, className }: StatusBadgeProps) {
  const tone = statusTone(status);
  return (
    <span className={`badge badge-${tone}${className ? ` ${className}` : ""}`} data-status={status}>
      {label ?? status}
    </span>
  );
}
