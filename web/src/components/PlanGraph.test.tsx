// The plan graph: nodes and edges from a plan with dependencies, layout, and the state words
// in each node's text and in the hidden text list.
import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Run, RunEvent } from "../api/types";
import { appendEvents, emptyLog } from "../live/eventLog";
import { buildRunView } from "../live/runState";
import { successfulRun } from "../live/testing";
import { PlanGraph, canvasHeight, chooseDirection } from "./PlanGraph";
import { layoutPlan, planGraph } from "./planGraphModel";

const makeEndedRun = (): Run => ({
  id: "run_01JDW6ZQ4V8M3N2P1K0H9G8F7E",
  status: "failed",
  input: "task",
  options: {},
  answer: null,
  error: { code: "deadline", message: "late" },
  created_at: "2026-11-25T08:07:00.000Z",
  started_at: "2026-11-25T08:07:01.000Z",
  finished_at: "2026-11-25T08:07:09.000Z",
  usage: { tokens_in: 0, tokens_out: 0, cost: 0 },
});
const viewAt = (n: number) => {
  const events: RunEvent[] = successfulRun().filter((e) => e.seq <= n);
  return buildRunView(null, appendEvents(emptyLog, events).entries);
};
// planned (seq 4), E1 started (5), E1 done (8)
const planned = () => viewAt(4);

describe("planGraph", () => {
  it("links the planner to independent steps, references to their users, and leaves to the solver", () => {
    const { nodes, edges } = planGraph(planned());
    expect(nodes.map((n) => n.id)).toEqual(["planner", "E1", "E2", "E3", "solver"]);
    expect(edges.map((e) => e.id).sort()).toEqual(["E1->E3", "E2->E3", "E3->solver", "planner->E1", "planner->E2"].sort());
    expect(nodes.find((n) => n.id === "E3")?.data.label).toBe("E3 llm: waiting");
  });

  it("labels nodes with their state, and animates edges into running steps", () => {
    const { nodes, edges } = planGraph(viewAt(5));
    expect(nodes.find((n) => n.id === "E1")?.data.label).toBe("E1 calculator: running");
    expect(nodes.find((n) => n.id === "planner")?.data.label).toBe("planner: done");
    expect(edges.find((e) => e.id === "planner->E1")?.animated).toBe(true);
    expect(edges.find((e) => e.id === "planner->E2")?.animated).toBe(false);
  });

  it("keeps the solver's edges when the run ended before steps ran, but not for steps a replan dropped", () => {
    const failed = viewAt(5);
    const ended = buildRunView({ ...makeEndedRun(), steps: [] }, appendEvents(emptyLog, successfulRun().filter((e) => e.seq <= 5)).entries);
    expect(ended.steps.find((s) => s.key === "E3")?.state).toBe("skipped");
    expect(planGraph(ended).edges.map((e) => e.id)).toContain("E3->solver");
    const replanned = { ...failed, planners: [...failed.planners, { ...failed.planners[0]!, key: "replanner.1", name: "replanner.1" }] };
    replanned.steps = failed.steps.map((s) => (s.key === "E3" ? { ...s, state: "skipped" as const } : s));
    expect(planGraph(replanned).edges.map((e) => e.id)).not.toContain("E3->solver");
  });

  it("connects the planner to the solver when there is no plan yet", () => {
    const { nodes, edges } = planGraph(viewAt(1));
    expect(nodes.map((n) => n.id)).toEqual(["planner", "solver"]);
    expect(edges.map((e) => e.id)).toEqual(["planner->solver"]);
  });

  it("lays out left to right: each step after the steps it needs", () => {
    const { nodes, edges } = planGraph(planned());
    const laid = layoutPlan(nodes, edges);
    const x = (id: string) => laid.find((n) => n.id === id)?.position.x ?? Number.NaN;
    expect(x("planner")).toBeLessThan(x("E1"));
    expect(x("E1")).toBe(x("E2"));
    expect(x("E2")).toBeLessThan(x("E3"));
    expect(x("E3")).toBeLessThan(x("solver"));
  });
});

describe("PlanGraph", () => {
  it("renders each node with its evidence id, tool and state word, plus a text list", () => {
    const { container } = render(<PlanGraph view={viewAt(8)} />);
    const nodes = [...container.querySelectorAll(".react-flow__node")];
    expect(nodes).toHaveLength(5);
    const e1 = nodes.find((n) => n.textContent?.includes("E1"));
    expect(e1?.textContent).toContain("calculator");
    expect(e1?.textContent).toContain("done");
    expect(e1).toHaveAttribute("aria-label", "E1 calculator: done");
    const e2 = nodes.find((n) => n.textContent?.includes("E2"));
    expect(e2?.textContent).toContain("waiting");
    expect(container.querySelector(".react-flow__node .state-done")).not.toBeNull();
    // Nodes cannot be dragged or connected.
    expect(container.querySelector(".react-flow__node.draggable")).toBeNull();
    const list = screen.getByRole("list", { name: "Plan steps" });
    expect(within(list).getByText("E3 llm: waiting — after E1, E2")).toBeInTheDocument();
    expect(within(list).getByText("solver: waiting — after E3")).toBeInTheDocument();
  });
});

describe("canvasHeight", () => {
  const at = (x: number, y: number) => ({ position: { x, y } });
  it("gives a short box to a short chain and a tall one to a deep graph, within bounds", () => {
    const chain = [at(0, 0), at(236, 0), at(472, 0), at(708, 0)];
    const short = canvasHeight(chain, 540);
    expect(short).toBeGreaterThanOrEqual(180);
    expect(short).toBeLessThan(240);
    const deep = [at(0, 0), at(0, 104), at(0, 208), at(0, 312), at(0, 416)];
    expect(canvasHeight(deep, 330)).toBe(480);
  });
  it("falls back to 320 px before the canvas is measured", () => {
    expect(canvasHeight([at(0, 0)], 0)).toBe(320);
    expect(canvasHeight([], 500)).toBe(320);
  });
});

describe("chooseDirection", () => {
  const chainOf = (n: number) => {
    const nodes = Array.from({ length: n }, (_, i) => ({ id: `n${i}` })) as unknown as Parameters<typeof chooseDirection>[0];
    const edges = Array.from({ length: n - 1 }, (_, i) => ({ id: `e${i}`, source: `n${i}`, target: `n${i + 1}` })) as unknown as Parameters<typeof chooseDirection>[1];
    return { nodes, edges };
  };
  it("runs a long chain downwards in a narrow panel and sideways in a wide one", () => {
    const { nodes, edges } = chainOf(5);
    expect(chooseDirection(nodes, edges, 540)).toBe("TB");
    expect(chooseDirection(nodes, edges, 1400)).toBe("LR");
  });
  it("keeps left to right before the canvas is measured", () => {
    const { nodes, edges } = chainOf(3);
    expect(chooseDirection(nodes, edges, 0)).toBe("LR");
  });
});
