// Reading the run view the way a person sees it: the status, the plan graph's nodes and
// edges, the answer as it streams in, the timeline.
import { expect } from "vitest";
import type { Page } from "playwright-core";
import { textOf, uiTimeout, waitForText } from "./checks";

// Installs (before the page loads) a MutationObserver that records every distinct text of
// the Answer region and of the "Live updates" indicator, so a test can tell that the answer
// arrived in pieces and which transports the page went through.
export async function recordLiveTexts(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __e2eTexts: Record<string, string[]> };
    w.__e2eTexts = { Answer: [], "Live updates": [] };
    const byName = (name: string): Element | null => {
      const byLabel = document.querySelector(`[aria-label="${name}"]`);
      if (byLabel) return byLabel;
      for (const el of Array.from(document.querySelectorAll("[aria-labelledby]"))) {
        const ids = (el.getAttribute("aria-labelledby") ?? "").split(/\s+/);
        if (ids.some((id) => document.getElementById(id)?.textContent?.trim() === name)) return el;
      }
      return null;
    };
    const record = () => {
      for (const [name, seen] of Object.entries(w.__e2eTexts)) {
        const el = byName(name);
        if (!el) continue;
        const text = ((el as HTMLElement).innerText ?? el.textContent ?? "").replace(/\s+/g, " ").trim();
        if (seen[seen.length - 1] !== text) seen.push(text);
      }
    };
    new MutationObserver(record).observe(document, { subtree: true, childList: true, characterData: true });
  });
}

// The texts recorded for "Answer" or "Live updates", in the order they were shown.
export async function recordedTexts(page: Page, name: "Answer" | "Live updates"): Promise<string[]> {
  return page.evaluate(
    (n) => (window as unknown as { __e2eTexts?: Record<string, string[]> }).__e2eTexts?.[n] ?? [],
    name,
  );
}

// A text that holds part of the answer (at least 4 characters) but not all of it.
export function partialStates(texts: string[], answer: string): string[] {
  return texts.filter((t) => {
    if (t.includes(answer)) return false;
    for (let k = answer.length - 1; k >= 4; k--) if (t.includes(answer.slice(0, k))) return true;
    return false;
  });
}

export function runIdFromUrl(url: string): string {
  const m = new URL(url).pathname.match(/^\/runs\/(run_[^/]+)$/);
  if (!m?.[1]) throw new Error(`not a run page: ${url}`);
  return m[1];
}

export async function waitForStatus(page: Page, status: string, timeout = uiTimeout): Promise<void> {
  await waitForText(page.getByRole("status", { name: "Run status", exact: true }), new RegExp(`^${status}$`), timeout);
}

export interface PlanGraph {
  nodes: Array<{ id: string; text: string }>;
  edges: Array<{ label: string; source: string | null; target: string | null; drawn: boolean }>;
}

// The React Flow graph inside the Plan region: each node's id and text, each edge's ends
// (from React Flow's "Edge from A to B" label) and whether its path was drawn.
export async function readPlanGraph(page: Page): Promise<PlanGraph> {
  const plan = page.getByRole("region", { name: "Plan", exact: true });
  return plan.evaluate((root) => {
    const nodes = Array.from(root.querySelectorAll(".react-flow__node")).map((n) => ({
      id: n.getAttribute("data-id") ?? "",
      text: ((n as HTMLElement).innerText ?? "").replace(/\s+/g, " ").trim(),
    }));
    const edges = Array.from(root.querySelectorAll(".react-flow__edge")).map((e) => {
      const label = e.getAttribute("aria-label") ?? "";
      const m = label.match(/^Edge from (.+) to (.+)$/);
      const path = e.querySelector("path.react-flow__edge-path");
      return {
        label,
        source: m?.[1] ?? null,
        target: m?.[2] ?? null,
        drawn: !!path && (path.getAttribute("d") ?? "").length > 0,
      };
    });
    return { nodes, edges };
  });
}

// The node for an evidence id ("E1"): the one whose text has the id as a word.
export function nodeFor(graph: PlanGraph, evidence: string): { id: string; text: string } | undefined {
  const word = new RegExp(`(^|[^A-Za-z0-9])#?${evidence}([^0-9]|$)`);
  return graph.nodes.find((n) => word.test(n.text));
}

// Waits until the plan graph shows each evidence node with the tool and state word.
export async function waitForPlanNodes(page: Page, evidence: string[], tool: string, state: string): Promise<PlanGraph> {
  await expect
    .poll(
      async () => {
        const g = await readPlanGraph(page);
        return evidence.map((e) => {
          const n = nodeFor(g, e);
          return n && n.text.includes(tool) && new RegExp(`\\b${state}\\b`).test(n.text) ? "ok" : (n?.text ?? `no node ${e}`);
        });
      },
      { timeout: uiTimeout, interval: 100, message: `plan nodes ${evidence.join(", ")} as ${tool} ${state}` },
    )
    .toEqual(evidence.map(() => "ok"));
  return readPlanGraph(page);
}

export async function timelineEntries(page: Page): Promise<string[]> {
  const items = page.getByRole("region", { name: "Timeline", exact: true }).getByRole("listitem");
  const out: string[] = [];
  for (const item of await items.all()) out.push(await textOf(item));
  return out;
}

// Waits until the timeline's last entry is the given event type; returns the entries.
export async function waitForTimelineEnd(page: Page, type: string): Promise<string[]> {
  const re = new RegExp(`\\b${type.replace(".", "\\.")}\\b`);
  await expect
    .poll(async () => (await timelineEntries(page)).at(-1) ?? "(empty timeline)", {
      timeout: uiTimeout,
      interval: 100,
      message: `the timeline's last entry to be ${type}`,
    })
    .toMatch(re);
  return timelineEntries(page);
}

// How many llm.delta events the timeline accounts for: merged entries say "×N".
export function deltaCount(timeline: string[]): number {
  return timeline
    .filter((t) => /llm\.delta/.test(t))
    .reduce((sum, t) => sum + Number(t.match(/llm\.delta ×(\d+)/)?.[1] ?? 1), 0);
}

// The edges from the node of one evidence id to another's (by React Flow's "Edge from A to
// B" label, or a custom label naming both in order).
export function edgesBetween(graph: PlanGraph, from: string, to: string): PlanGraph["edges"] {
  const a = nodeFor(graph, from);
  const b = nodeFor(graph, to);
  return graph.edges.filter(
    (e) => (a && b && e.source === a.id && e.target === b.id) || (e.source === null && new RegExp(`${from}.*${to}`).test(e.label)),
  );
}

// Waits until React Flow has drawn the edge between two evidence nodes (edges render after
// the nodes are measured).
export async function waitForEdge(page: Page, from: string, to: string): Promise<PlanGraph> {
  let last: PlanGraph = { nodes: [], edges: [] };
  await expect
    .poll(
      async () => {
        last = await readPlanGraph(page);
        return edgesBetween(last, from, to).filter((e) => e.drawn).length;
      },
      { timeout: uiTimeout, interval: 100, message: `a drawn edge ${from}→${to} in the plan graph` },
    )
    .toBe(1)
    .catch((e: unknown) => {
      throw new Error(`${String(e)}; graph: ${JSON.stringify(last)}`);
    });
  return last;
}
