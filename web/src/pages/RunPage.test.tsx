// The run page against a fake server: a completed run, a failed run (alert with the reason),
// the cancel flow, approval and rejection, and a live run streaming over the WebSocket.
import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Run, RunEvent, Step } from "../api/types";
import { answer, ev, FakeWebSocket, plan, runId, successfulRun, installFakeLiveSockets, removeFakeLiveSockets } from "../live/testing";
import { unnamedControls } from "../test/a11y";
import { fakeApi, makeRun, type FakeApi } from "../test/fakeApi";
import { renderPage } from "../test/render";
import { RunPage } from "./RunPage";

const step = (name: string, over: Partial<Step> = {}): Step => ({
  id: `step_${name}`,
  name,
  tool: null,
  args: {},
  status: "completed",
  attempts: 1,
  output: null,
  error: null,
  started_at: "2026-11-25T08:07:01.000Z",
  finished_at: "2026-11-25T08:07:02.000Z",
  tokens_in: 0,
  tokens_out: 0,
  latency_ms: 10,
  prompt_version: null,
  ...over,
});

function server(run: Run, events: RunEvent[]): FakeApi {
  return fakeApi({
    "GET /v1/runs/:id": () => run,
    "GET /v1/runs/:id/events": (req) => {
      const after = Number(req.url.searchParams.get("after") ?? 0);
      return { data: events.filter((e) => e.seq > after), next_after: events.at(-1)?.seq ?? after };
    },
  });
}

const show = (transport: "poll" | null = "poll") => renderPage(<RunPage />, { route: `/runs/${runId}`, path: "/runs/:id", transport });

function failedEvents(): RunEvent[] {
  const head = successfulRun().slice(0, 8); // E1 done
  return [
    ...head,
    ev(9, "step.started", "worker.E2", { tool: "doc_search", attempt: 1 }),
    ev(10, "step.failed", "worker.E2", { error: { code: "not_found", message: "no documents ingested" } }),
    ev(11, "run.failed", undefined, {
      error: { code: "step_failed", message: "step E2 (doc_search) failed: no documents ingested" },
      usage: { tokens_in: 400, tokens_out: 80, cost: 0 },
    }),
  ];
}

describe("RunPage", () => {
  beforeEach(() => {
    installFakeLiveSockets();
  });
  afterEach(() => {
    removeFakeLiveSockets();
  });

  it("shows a completed run: status, task, plan, answer, steps and timeline", async () => {
    const run = makeRun({
      answer,
      steps: [
        step("planner", { output: JSON.stringify(plan), tokens_in: 400, tokens_out: 80, prompt_version: "planner@1" }),
        step("worker.E1", { tool: "calculator", args: { expression: "17 * 23" }, output: "391" }),
        step("worker.E2", { tool: "doc_search", args: { query: "capital of France" }, output: "Paris is the capital of France." }),
        step("worker.E3", { tool: "llm", args: { prompt: "Combine #E1 and #E2 in one sentence" }, output: "391; Paris." }),
        step("solver", { output: answer, prompt_version: "solver@1" }),
      ],
    });
    vi.stubGlobal("fetch", server(run, successfulRun()).fetch);
    show();
    expect(await screen.findByRole("heading", { level: 1 })).toHaveTextContent(runId);
    await waitFor(() => expect(screen.getByRole("status", { name: "Run status" })).toHaveTextContent("completed"));
    expect(screen.getByText(run.input)).toBeInTheDocument();

    const answerRegion = screen.getByRole("region", { name: "Answer" });
    const text = await within(answerRegion).findByText(/The capital of France is Paris/);
    expect(text.textContent).toBe(answer); // line break kept as text

    const planRegion = screen.getByRole("region", { name: "Plan" });
    const nodes = [...planRegion.querySelectorAll(".react-flow__node")].map((n) => n.textContent ?? "");
    expect(nodes.some((t) => t.includes("E1") && t.includes("calculator") && t.includes("done"))).toBe(true);
    expect(nodes).toHaveLength(5);

    const steps = within(screen.getByRole("region", { name: "Steps" })).getAllByRole("listitem");
    expect(steps.map((li) => li.querySelector(".step-name")?.textContent)).toEqual(["planner", "E1", "E2", "E3", "solver"]);
    expect(steps[1]).toHaveTextContent("calculator");
    expect(steps[1]).toHaveTextContent("17 * 23");
    expect(steps[1]).toHaveTextContent("391");

    const timeline = within(screen.getByRole("region", { name: "Timeline" })).getAllByRole("listitem");
    expect(timeline[0]).toHaveTextContent("#1");
    expect(timeline[0]).toHaveTextContent("run.created");
    expect(timeline.at(-1)).toHaveTextContent("run.completed");
    expect(timeline.some((li) => li.textContent?.includes("llm.delta ×2"))).toBe(true);

    expect(screen.queryByRole("alert")).toBeNull();
    expect(screen.queryByRole("button", { name: "Cancel run" })).toBeNull();
    expect(unnamedControls()).toEqual([]);
  });

  it("shows why a run failed in an alert, with what to do", async () => {
    const run = makeRun({
      status: "failed",
      answer: null,
      error: { code: "step_failed", message: "step E2 (doc_search) failed: no documents ingested" },
    });
    vi.stubGlobal("fetch", server(run, failedEvents()).fetch);
    show();
    const alert = await screen.findByRole("alert");
    expect(within(alert).getByRole("heading", { name: "Run failed" })).toBeInTheDocument();
    expect(alert).toHaveTextContent("A step's tool failed");
    expect(alert).toHaveTextContent("step E2 (doc_search) failed: no documents ingested");
    expect(alert).toHaveTextContent("What to do");
    const planRegion = screen.getByRole("region", { name: "Plan" });
    await waitFor(() => {
      const e2 = [...planRegion.querySelectorAll(".react-flow__node")].find((n) => n.textContent?.includes("E2"));
      expect(e2?.textContent).toContain("failed");
    });
    expect(screen.getByRole("region", { name: "Answer" })).toHaveTextContent("No answer: the run failed.");
  });

  it("cancels a running run after a second, confirming click", async () => {
    const running = makeRun({ status: "running", answer: null, finished_at: null });
    const api = server(running, successfulRun().slice(0, 6));
    api.on("POST /v1/runs/:id/cancel", () => makeRun({ status: "cancelled", answer: null, error: { code: "cancelled", message: "cancelled by request" } }));
    vi.stubGlobal("fetch", api.fetch);
    show();
    fireEvent.click(await screen.findByRole("button", { name: "Cancel run" }));
    expect(api.calls(`POST /v1/runs/${runId}/cancel`)).toHaveLength(0);
    fireEvent.click(screen.getByRole("button", { name: "Keep running" }));
    fireEvent.click(screen.getByRole("button", { name: "Cancel run" }));
    api.on("GET /v1/runs/:id", () => makeRun({ status: "cancelled", answer: null, error: { code: "cancelled", message: "cancelled by request" } }));
    fireEvent.click(screen.getByRole("button", { name: "Confirm cancellation" }));
    await waitFor(() => expect(screen.getByRole("status", { name: "Run status" })).toHaveTextContent("cancelled"));
    expect(api.calls(`POST /v1/runs/${runId}/cancel`)).toHaveLength(1);
    expect(screen.queryByRole("button", { name: "Cancel run" })).toBeNull();
    expect(screen.getByRole("region", { name: "Cancelled" })).toHaveTextContent("cancelled by request");
  });

  it("approves a plan that waits, and rejects one with a reason", async () => {
    const waiting = makeRun({ status: "awaiting_input", answer: null, finished_at: null, options: { require_approval: true } });
    const events = [
      ...successfulRun().slice(0, 4),
      ev(5, "run.awaiting_input", undefined, { plan, tools: ["calculator", "doc_search", "llm"], estimate: { model_calls: 2, tokens: 1000, cost: 0 } }),
    ];
    const api = server(waiting, events);
    api.on("POST /v1/runs/:id/approve", (req) =>
      (req.body as { approve: boolean }).approve ? makeRun({ status: "running", answer: null }) : makeRun({ status: "cancelled", answer: null }),
    );
    vi.stubGlobal("fetch", api.fetch);
    show();
    expect(await screen.findByRole("region", { name: "Approval" })).toHaveTextContent("calculator, doc_search, llm");
    fireEvent.click(screen.getByRole("button", { name: "Reject plan" }));
    const confirm = screen.getByRole("button", { name: "Confirm rejection" });
    expect(confirm).toBeDisabled();
    fireEvent.change(screen.getByLabelText("Reason for rejecting"), { target: { value: "too many web calls" } });
    fireEvent.click(confirm);
    await waitFor(() => expect(api.calls(`POST /v1/runs/${runId}/approve`)).toHaveLength(1));
    expect(api.calls(`POST /v1/runs/${runId}/approve`)[0]?.body).toEqual({ approve: false, reason: "too many web calls" });
  });

  it("sends approve: true for Approve plan", async () => {
    const waiting = makeRun({ status: "awaiting_input", answer: null, finished_at: null });
    const api = server(waiting, [...successfulRun().slice(0, 4), ev(5, "run.awaiting_input", undefined, { plan, estimate: { model_calls: 2, tokens: 1, cost: 0 } })]);
    api.on("POST /v1/runs/:id/approve", () => makeRun({ status: "running", answer: null }));
    vi.stubGlobal("fetch", api.fetch);
    show();
    fireEvent.click(await screen.findByRole("button", { name: "Approve plan" }));
    await waitFor(() => expect(api.calls(`POST /v1/runs/${runId}/approve`)[0]?.body).toEqual({ approve: true }));
  });

  it("streams a live run over the WebSocket and refetches the run when it ends", async () => {
    const all = successfulRun();
    const running = makeRun({ status: "running", answer: null, finished_at: null });
    const api = server(running, all.slice(0, 16));
    vi.stubGlobal("fetch", api.fetch);
    show(null);
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    const ws = FakeWebSocket.last();
    act(() => ws.open());
    expect(ws.messages()).toEqual([{ subscribe: runId, after: 16 }]);
    act(() => {
      ws.receive(all[16]); // solver started
      ws.receive({ ...all[17], delta: "<b>not bold</b>\nline two" });
    });
    const answerRegion = screen.getByRole("region", { name: "Answer" });
    await waitFor(() => expect(answerRegion).toHaveTextContent("<b>not bold</b>"));
    expect(answerRegion.querySelector("b")).toBeNull();
    expect(answerRegion).toHaveTextContent("writing…");
    const runFetches = api.calls(`GET /v1/runs/${runId}`).length;
    api.on("GET /v1/runs/:id", () => makeRun({ status: "completed", answer }));
    act(() => {
      for (const e of all.slice(18)) ws.receive(e);
    });
    await waitFor(() => expect(screen.getByRole("status", { name: "Run status" })).toHaveTextContent("completed"));
    expect(answerRegion.querySelector(".answer-text")?.textContent).toBe(answer);
    await waitFor(() => expect(api.calls(`GET /v1/runs/${runId}`).length).toBeGreaterThan(runFetches));
  });

  it("says so when the run cannot be loaded", async () => {
    vi.stubGlobal("fetch", fakeApi({ "GET /v1/runs/:id/events": () => ({ data: [] }) }).fetch);
    show();
    expect(await screen.findByRole("alert")).toHaveTextContent("Could not load this run");
  });
});
