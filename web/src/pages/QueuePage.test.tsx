// The queue page: depth and lag, dead letters with their last error, requeue (status message,
// row leaves, depth refreshes), "Load more", and the admin-key message for a runs key.
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Job } from "../api/types";
import { controlCount, unnamedControls } from "../test/a11y";
import { fakeApi, makeJob, makeQueueStats, problemResponse } from "../test/fakeApi";
import { renderPage } from "../test/render";
import { QueuePage } from "./QueuePage";

afterEach(() => {
  vi.unstubAllGlobals();
});

function queueServer(jobs: Job[]) {
  let dead = [...jobs];
  const api = fakeApi({
    "GET /v1/queue": () => makeQueueStats({ depth: [{ topic: "runs", state: "dead", count: dead.length }] }),
    "GET /v1/queue/dead": { data: [] },
    "POST /v1/queue/dead/:id/retry": (req) => {
      const id = Number(req.url.pathname.split("/")[4]);
      dead = dead.filter((j) => j.id !== id);
      return { id, state: "ready" };
    },
  });
  api.on("GET /v1/queue/dead", () => ({ data: dead, next_cursor: null }));
  vi.stubGlobal("fetch", api.fetch);
  return api;
}

describe("QueuePage", () => {
  it("shows depth, visible jobs, the oldest lag and the dead letters", async () => {
    queueServer([makeJob({ last_error: "line one\n  <b>line two</b>" })]);
    renderPage(<QueuePage />);
    expect(screen.getByRole("heading", { level: 1, name: "Queue" })).toBeInTheDocument();
    const depth = await screen.findByRole("table", { name: "Queue depth" });
    expect(within(depth).getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["Topic", "State", "Count"]);
    expect(within(depth).getByRole("row", { name: /runs dead 1/ })).toBeInTheDocument();
    expect(screen.getByText("Visible jobs").nextSibling).toHaveTextContent("2");
    expect(screen.getByText("Oldest visible lag").nextSibling).toHaveTextContent("1.2 s");

    const dead = await screen.findByRole("table", { name: "Dead letters" });
    const row = within(dead).getAllByRole("row")[1]!;
    expect(row).toHaveTextContent("42");
    expect(row).toHaveTextContent("5/5");
    const pre = row.querySelector("pre");
    expect(pre?.textContent).toBe("line one\n  <b>line two</b>"); // preformatted, HTML as text
    expect(row.querySelector("b")).toBeNull();
    expect(row.querySelector("time")).toHaveAttribute("dateTime", "2026-11-25T08:05:00.000Z");
  });

  it("requeues a dead letter: message, the row leaves, depth refreshes", async () => {
    const api = queueServer([makeJob({ id: 42 }), makeJob({ id: 43, last_error: "timeout" })]);
    renderPage(<QueuePage />);
    const button = await screen.findByRole("button", { name: "Requeue job 42" });
    const statsBefore = api.calls("GET /v1/queue").length;
    await userEvent.setup().click(button);

    await waitFor(() => expect(screen.getByRole("status")).toHaveTextContent("Job 42 requeued"));
    expect(api.calls("POST /v1/queue/dead/42/retry")).toHaveLength(1);
    expect(screen.queryByRole("button", { name: "Requeue job 42" })).toBeNull();
    expect(screen.getByRole("button", { name: "Requeue job 43" })).toBeInTheDocument();
    await waitFor(() => expect(api.calls("GET /v1/queue").length).toBeGreaterThan(statsBefore));
    await waitFor(() => expect(within(screen.getByRole("table", { name: "Queue depth" })).getByRole("row", { name: /runs dead 1/ })).toBeInTheDocument());
  });

  it("says so when there are no dead letters", async () => {
    queueServer([]);
    renderPage(<QueuePage />);
    expect(await screen.findByText("No dead letters")).toBeInTheDocument();
    expect(screen.queryByRole("table", { name: "Dead letters" })).toBeNull();
  });

  it("shows a failed requeue as an alert", async () => {
    const api = queueServer([makeJob({ id: 7 })]);
    api.on("POST /v1/queue/dead/:id/retry", () => problemResponse(409, "Conflict", "job 7 is not dead", "req_409"));
    renderPage(<QueuePage />);
    await userEvent.setup().click(await screen.findByRole("button", { name: "Requeue job 7" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Job 7 was not requeued");
    expect(alert).toHaveTextContent("job 7 is not dead");
    expect(screen.getByRole("status")).toHaveTextContent("");
  });

  it("tells a runs key that the queue needs an admin key", async () => {
    const api = fakeApi({
      "GET /v1/queue": () => problemResponse(403, "Forbidden", "this route needs an admin key"),
      "GET /v1/queue/dead": () => problemResponse(403, "Forbidden", "this route needs an admin key"),
    });
    vi.stubGlobal("fetch", api.fetch);
    renderPage(<QueuePage />);
    expect(await screen.findByText("The queue needs an admin key.")).toBeInTheDocument();
    expect(screen.queryByRole("alert")).toBeNull();
    expect(screen.queryByRole("table")).toBeNull();
  });

  it("loads more dead letters with next_cursor", async () => {
    const api = fakeApi({
      "GET /v1/queue": makeQueueStats(),
      "GET /v1/queue/dead": (req) =>
        req.url.searchParams.get("cursor") === "10"
          ? { data: [makeJob({ id: 11 })], next_cursor: null }
          : { data: [makeJob({ id: 10 })], next_cursor: "10" },
    });
    vi.stubGlobal("fetch", api.fetch);
    renderPage(<QueuePage />);
    await screen.findByRole("button", { name: "Requeue job 10" });
    await userEvent.setup().click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("button", { name: "Requeue job 11" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Requeue job 10" })).toBeInTheDocument();
  });

  it("gives every control an accessible name", async () => {
    queueServer([makeJob({ id: 1 }), makeJob({ id: 2 })]);
    renderPage(<QueuePage />);
    await screen.findByRole("button", { name: "Requeue job 2" });
    expect(controlCount()).toBe(2);
    expect(unnamedControls()).toEqual([]);
  });
});
