// The runs list: rows with status, task link, age, duration and tokens; the status filter in
// the URL and the request; "Load more"; the empty state; errors.
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { controlCount, unnamedControls } from "../test/a11y";
import { fakeApi, makeRun, problemResponse, type RecordedRequest } from "../test/fakeApi";
import { renderPage } from "../test/render";
import { RunsPage } from "./RunsPage";

const minutesAgo = (m: number, s = 0) => new Date(Date.now() - m * 60_000 - s * 1000).toISOString();

function runsFixture() {
  return [
    makeRun({
      id: "run_02",
      status: "running",
      input: "Summarise the <b>latest</b> release notes",
      created_at: minutesAgo(0, 30),
      started_at: minutesAgo(0, 29),
      finished_at: null,
      usage: { tokens_in: 120, tokens_out: 0, cost: 0 },
    }),
    makeRun({
      id: "run_01",
      status: "completed",
      created_at: minutesAgo(3, 10),
      started_at: "2026-11-25T08:07:01.000Z",
      finished_at: "2026-11-25T08:07:05.200Z",
      usage: { tokens_in: 1532, tokens_out: 240, cost: 0 },
    }),
    makeRun({ id: "run_00", status: "failed", input: "x".repeat(500), error: { code: "model_unreachable", message: "no model" } }),
  ];
}

function listHandler(all = runsFixture()) {
  return (req: RecordedRequest) => {
    const status = req.url.searchParams.get("status");
    return { data: status ? all.filter((r) => r.status === status) : all, next_cursor: null };
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("RunsPage", () => {
  it("shows one row per run with status, task link, age, duration and tokens", async () => {
    const api = fakeApi({ "GET /v1/runs": listHandler() });
    vi.stubGlobal("fetch", api.fetch);
    renderPage(<RunsPage />, { route: "/runs", path: "/runs" });
    expect(screen.getByRole("heading", { level: 1, name: "Runs" })).toBeInTheDocument();
    const table = await screen.findByRole("table", { name: "Runs" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(3);

    const done = rows[1]!;
    expect(within(done).getByText("completed")).toHaveClass("badge");
    const link = within(done).getByRole("link", { name: /capital of France/ });
    expect(link).toHaveAttribute("href", "/runs/run_01");
    const time = done.querySelector("time");
    expect(time).toHaveTextContent("3 min ago");
    expect(time?.getAttribute("dateTime")).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(time).toHaveAttribute("title");
    expect(done).toHaveTextContent("4.2 s");
    expect(done).toHaveTextContent("1,532");
    expect(done).toHaveTextContent("240");

    // HTML in a task is text; a long task is truncated with the whole (flattened) text in the title.
    expect(within(rows[0]!).getByRole("link")).toHaveTextContent("Summarise the <b>latest</b> release notes");
    expect(rows[0]!.querySelector("b")).toBeNull();
    const long = within(rows[2]!).getByRole("link");
    expect(long.textContent!.length).toBeLessThanOrEqual(120);
    expect(long.textContent).toMatch(/…$/);

    expect(api.calls("GET /v1/runs")[0]?.url.searchParams.get("limit")).toBe("50");
  });

  it("filters by status: the select updates the URL and the request", async () => {
    const api = fakeApi({ "GET /v1/runs": listHandler() });
    vi.stubGlobal("fetch", api.fetch);
    const view = renderPage(<RunsPage />, { route: "/runs", path: "/runs" });
    await screen.findByRole("table", { name: "Runs" });
    const select = screen.getByRole("combobox", { name: "Status" });
    expect(within(select).getAllByRole("option").map((o) => o.textContent)).toEqual([
      "All",
      "queued",
      "running",
      "awaiting_input",
      "completed",
      "failed",
      "cancelled",
    ]);
    await userEvent.setup().selectOptions(select, "failed");
    expect(view.location()).toBe("/runs?status=failed");
    await waitFor(() => expect(within(screen.getByRole("table", { name: "Runs" })).getAllByRole("row")).toHaveLength(2));
    expect(api.calls("GET /v1/runs").at(-1)?.url.searchParams.get("status")).toBe("failed");

    await userEvent.setup().selectOptions(select, "All");
    expect(view.location()).toBe("/runs");
    await waitFor(() => expect(within(screen.getByRole("table", { name: "Runs" })).getAllByRole("row")).toHaveLength(4));
  });

  it("reads the filter from the URL on load", async () => {
    const api = fakeApi({ "GET /v1/runs": listHandler() });
    vi.stubGlobal("fetch", api.fetch);
    renderPage(<RunsPage />, { route: "/runs?status=completed", path: "/runs" });
    await screen.findByRole("table", { name: "Runs" });
    expect(screen.getByRole("combobox", { name: "Status" })).toHaveValue("completed");
    expect(api.calls("GET /v1/runs")[0]?.url.searchParams.get("status")).toBe("completed");
  });

  it("ignores an unknown status in the URL", async () => {
    const api = fakeApi({ "GET /v1/runs": listHandler() });
    vi.stubGlobal("fetch", api.fetch);
    renderPage(<RunsPage />, { route: "/runs?status=<script>", path: "/runs" });
    await screen.findByRole("table", { name: "Runs" });
    expect(screen.getByRole("combobox", { name: "Status" })).toHaveValue("");
    expect(api.calls("GET /v1/runs")[0]?.url.searchParams.has("status")).toBe(false);
  });

  it("loads the next page with next_cursor", async () => {
    const first = [makeRun({ id: "run_b2", input: "page one task" })];
    const second = [makeRun({ id: "run_a1", input: "page two task" })];
    const api = fakeApi({
      "GET /v1/runs": (req) =>
        req.url.searchParams.get("cursor") === "run_b2" ? { data: second, next_cursor: null } : { data: first, next_cursor: "run_b2" },
    });
    vi.stubGlobal("fetch", api.fetch);
    renderPage(<RunsPage />, { route: "/runs", path: "/runs" });
    await screen.findByRole("link", { name: "page one task" });
    await userEvent.setup().click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("link", { name: "page two task" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "page one task" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });

  it("shows an empty state with a way to start a run", async () => {
    vi.stubGlobal("fetch", fakeApi({ "GET /v1/runs": { data: [], next_cursor: null } }).fetch);
    renderPage(<RunsPage />, { route: "/runs", path: "/runs" });
    expect(await screen.findByText("No runs yet.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Start your first run" })).toHaveAttribute("href", "/runs/new");
    expect(screen.queryByRole("table")).toBeNull();
  });

  it("shows a server error as an alert with the request id", async () => {
    vi.stubGlobal("fetch", fakeApi({ "GET /v1/runs": () => problemResponse(500, "Internal Server Error", "database is locked", "req_x9") }).fetch);
    renderPage(<RunsPage />, { route: "/runs", path: "/runs" });
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Could not load the runs");
    expect(alert).toHaveTextContent("database is locked");
    expect(alert).toHaveTextContent("Request id: req_x9");
  });

  it("keeps the list fresh: it asks again while shown", async () => {
    const api = fakeApi({ "GET /v1/runs": listHandler() });
    vi.stubGlobal("fetch", api.fetch);
    renderPage(<RunsPage />, { route: "/runs", path: "/runs" });
    await screen.findByRole("table", { name: "Runs" });
    api.on("GET /v1/runs", () => ({ data: [makeRun({ id: "run_new", input: "a brand new run" }), ...runsFixture()], next_cursor: null }));
    expect(await screen.findByRole("link", { name: "a brand new run" }, { timeout: 15_000 })).toBeInTheDocument();
  });

  it("gives every control an accessible name", async () => {
    vi.stubGlobal("fetch", fakeApi({ "GET /v1/runs": { data: runsFixture(), next_cursor: "run_00" } }).fetch);
    renderPage(<RunsPage />, { route: "/runs", path: "/runs" });
    await screen.findByRole("table", { name: "Runs" });
    expect(controlCount()).toBeGreaterThanOrEqual(2);
    expect(unnamedControls()).toEqual([]);
  });
});
