// Unit tests for format.ts.
import { describe, expect, it } from "vitest";
import { elapsedMs, formatDuration, formatExactTime, formatRelative, formatTokens, formatTokensInOut, parseTime, truncate } from "./format";

const now = Date.parse("2026-11-25T08:10:00.000Z");

describe("formatDuration", () => {
  it.each([
    [0, "0 ms"],
    [850, "850 ms"],
    [1000, "1.0 s"],
    [1234, "1.2 s"],
    [9999, "9.9 s"],
    [42_000, "42 s"],
    [60_000, "1 min"],
    [184_000, "3 min 4 s"],
    [3_600_000, "1 h"],
    [7_500_000, "2 h 5 min"],
    [86_400_000 * 3 + 3_600_000 * 4, "3 d 4 h"],
  ])("%d ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
  it("shows a dash for nothing or nonsense", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(undefined)).toBe("—");
    expect(formatDuration(Number.NaN)).toBe("—");
    expect(formatDuration(-5)).toBe("—");
  });
});

describe("elapsedMs", () => {
  it("is finished − started", () => {
    expect(elapsedMs("2026-11-25T08:07:01.000Z", "2026-11-25T08:07:05.200Z", now)).toBe(4200);
  });
  it("counts up to now while running, and is null before start", () => {
    expect(elapsedMs("2026-11-25T08:09:00.000Z", null, now)).toBe(60_000);
    expect(elapsedMs(null, null, now)).toBeNull();
    expect(elapsedMs("not a time", null, now)).toBeNull();
  });
});

describe("formatTokens", () => {
  it.each([
    [0, "0"],
    [987, "987"],
    [12_345, "12,345"],
    [123_456, "123k"],
    [1_250_000, "1.2M"],
  ])("%d → %s", (n, text) => {
    expect(formatTokens(n)).toBe(text);
  });
  it("pairs in and out", () => {
    expect(formatTokensInOut(1532, 240)).toBe("1,532 in / 240 out");
    expect(formatTokens(null)).toBe("—");
  });
});

describe("formatRelative", () => {
  const ago = (ms: number) => new Date(now - ms).toISOString();
  it.each([
    [1_000, "just now"],
    [42_000, "42 s ago"],
    [3 * 60_000 + 20_000, "3 min ago"],
    [2 * 3_600_000 + 1, "2 h ago"],
    [5 * 86_400_000, "5 d ago"],
  ])("%d ms ago → %s", (ms, text) => {
    expect(formatRelative(ago(ms), now)).toBe(text);
  });
  it("says 'in' for times ahead, a date for old times, a dash for bad input", () => {
    expect(formatRelative(ago(-3 * 60_000), now)).toBe("in 3 min");
    expect(formatRelative("2026-01-02T10:00:00Z", now)).toBe("2026-01-02");
    expect(formatRelative("garbage", now)).toBe("—");
    expect(formatRelative(null, now)).toBe("—");
  });
});

describe("formatExactTime and parseTime", () => {
  it("gives a full local date and time with the offset", () => {
    expect(formatExactTime("2026-11-25T08:10:00.000Z")).toMatch(/^2026-11-2[45] \d\d:\d0:00 \(UTC[+-]\d\d:\d\d\)$/);
    expect(formatExactTime(undefined)).toBe("—");
  });
  it("parses ISO times and rejects others", () => {
    expect(parseTime("2026-11-25T08:10:00.000Z")).toBe(now);
    expect(parseTime("")).toBeNull();
    expect(parseTime("yesterday-ish")).toBeNull();
  });
});

describe("truncate", () => {
  it("keeps short text and flattens whitespace", () => {
    expect(truncate("  a\n\n b  ", 10)).toBe("a b");
  });
  it("cuts long text with an ellipsis", () => {
    expect(truncate("abcdefghij", 5)).toBe("abcd…");
  });
  it("never splits a surrogate pair", () => {
    const out = truncate("ab😀cdef", 4);
    expect(out).toBe("ab…");
  });
});
