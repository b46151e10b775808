// The step list: a summary per step, expandable details as plain text, long output collapsed.
import { fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { appendEvents, emptyLog } from "../live/eventLog";
import { buildRunView } from "../live/runState";
import { ev, successfulRun } from "../live/testing";
import { outputPreviewChars, StepList } from "./StepList";

describe("StepList", () => {
  it("collapses long output behind Show all, and shows HTML as text", () => {
    const events = successfulRun().slice(0, 6);
    const long = `<img src=x onerror=alert(1)>${"y".repeat(outputPreviewChars + 500)}`;
    events.push(ev(7, "tool.result", "worker.E1", { tool: "calculator", status: "ok", output: long }));
    const view = buildRunView(null, appendEvents(emptyLog, events).entries);
    const { container } = render(<StepList steps={[...view.planners, ...view.steps, view.solver]} />);
    const e1 = within(screen.getByRole("region", { name: "Steps" })).getAllByRole("listitem")[1];
    if (!e1) throw new Error("no E1 entry");
    expect(e1).toHaveTextContent("E1");
    expect(e1).toHaveTextContent("running");
    expect(container.querySelector("img")).toBeNull();
    const pre = e1.querySelector(".step-output");
    expect(pre?.textContent).toHaveLength(outputPreviewChars + 1);
    // Evidence steps start open; the planner's entry (the plan JSON) starts closed.
    const details = e1.querySelector("details");
    expect(details?.open).toBe(true);
    const planner = within(screen.getByRole("region", { name: "Steps" })).getAllByRole("listitem")[0];
    expect(planner?.querySelector("details")?.open).toBe(false);
    fireEvent.click(planner?.querySelector("summary") as HTMLElement);
    expect(planner?.querySelector("details")?.open).toBe(true);
    // (jsdom computes <details> content as hidden, so no role query here)
    const button = e1.querySelector("button");
    expect(button?.textContent).toBe(`Show all of the output of E1 (${long.length.toLocaleString("en-US")} characters)`);
    fireEvent.click(button as HTMLButtonElement);
    expect(pre?.textContent).toBe(long);
    expect(button?.textContent).toBe("Show less of the output of E1");
  });
});
