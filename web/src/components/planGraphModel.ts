// The plan as a graph: planner(s), one node per evidence step (E1…En) with edges from the
// steps its arguments name (#E1), and the solver; laid out left to right with dagre. Pure.
import dagre from "@dagrejs/dagre";
import type { RunView, StepState, StepView } from "../live/runState";

export interface PlanNodeData {
  [key: string]: unknown;
  key: string;
  title: string; // "E1", "planner", "replanner.1", "solver"
  tool: string | null;
  state: StepState;
  attempts: number;
  label: string; // the node's accessible text, e.g. "E1 calculator: done"
}

export interface PlanNode {
  id: string;
  data: PlanNodeData;
  position: { x: number; y: number };
}

export interface PlanEdge {
  id: string;
  source: string;
  target: string;
  animated: boolean;
}

export const nodeWidth = 180;
export const nodeHeight = 64;

function nodeLabel(s: StepView): string {
  const parts = [s.key];
  if (s.tool) parts.push(s.tool);
  let label = `${parts.join(" ")}: ${s.state}`;
  if (s.attempts > 1) label += ` (attempt ${s.attempts})`;
  return label;
}

function nodeOf(s: StepView): PlanNode {
  return {
    id: s.key,
    position: { x: 0, y: 0 },
    data: {
      key: s.key,
      title: s.key,
      tool: s.kind === "worker" ? s.tool : null,
      state: s.state,
      attempts: s.attempts,
      label: nodeLabel({ ...s, tool: s.kind === "worker" ? s.tool : null }),
    },
  };
}

// Nodes and edges (not yet laid out) for a run view.
export function planGraph(view: RunView): { nodes: PlanNode[]; edges: PlanEdge[] } {
  const nodes: PlanNode[] = [];
  const edges: PlanEdge[] = [];
  const ids = new Set<string>();
  const add = (s: StepView) => {
    nodes.push(nodeOf(s));
    ids.add(s.key);
  };
  const edge = (source: string, target: string, targetState: StepState) => {
    if (!ids.has(source) || !ids.has(target) || source === target) return;
    const id = `${source}->${target}`;
    if (edges.some((e) => e.id === id)) return;
    edges.push({ id, source, target, animated: targetState === "running" || targetState === "retrying" });
  };

  view.planners.forEach(add);
  view.steps.forEach(add);
  add(view.solver);

  // Each replan follows the planner (or replan) before it.
  for (let i = 1; i < view.planners.length; i += 1) {
    const prev = view.planners[i - 1];
    const cur = view.planners[i];
    if (prev && cur) edge(prev.key, cur.key, cur.state);
  }
  const referenced = new Set<string>();
  for (const s of view.steps) {
    const deps = s.deps.filter((d) => ids.has(d));
    if (deps.length === 0) edge(ids.has(s.plannedBy) ? s.plannedBy : "planner", s.key, s.state);
    for (const d of deps) {
      edge(d, s.key, s.state);
      referenced.add(d);
    }
  }
  // The solver reads the evidence no other step consumed, except steps a later plan dropped.
  const last = view.planners[view.planners.length - 1];
  const dropped = (s: StepView) => s.state === "skipped" && last !== undefined && s.plannedBy !== last.key;
  const leaves = view.steps.filter((s) => !referenced.has(s.key) && !dropped(s));
  if (leaves.length === 0 && last) edge(last.key, "solver", view.solver.state);
  for (const s of leaves) edge(s.key, "solver", view.solver.state);
  return { nodes, edges };
}

export type PlanDirection = "LR" | "TB";

// Positions the nodes left to right (or top to bottom on narrow screens) with dagre.
export function layoutPlan(nodes: PlanNode[], edges: PlanEdge[], direction: PlanDirection = "LR"): PlanNode[] {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: direction, nodesep: 24, ranksep: direction === "LR" ? 56 : 40, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: nodeWidth, height: nodeHeight });
  for (const e of edges) g.setEdge(e.source, e.target);
  dagre.layout(g);
  return nodes.map((n) => {
    const p = g.node(n.id) as { x: number; y: number } | undefined;
    return p ? { ...n, position: { x: p.x - nodeWidth / 2, y: p.y - nodeHeight / 2 } } : n;
  });
}
