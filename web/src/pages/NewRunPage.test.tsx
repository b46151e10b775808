// The new-run form: client-side checks next to the fields, the request body (only filled
// options), the Idempotency-Key, navigation to the run, server problems, Ctrl+Enter.
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { controlCount, unnamedControls } from "../test/a11y";
import { fakeApi, jsonResponse, makeRun, problemResponse, sampleTools, type Handler } from "../test/fakeApi";
import { renderPage } from "../test/render";
import { buildRequest, checkPositiveInteger, NewRunPage, newIdempotencyKey } from "./NewRunPage";

function setup(create: Handler = () => jsonResponse(makeRun({ id: "run_new1", status: "queued" }), 201)) {
  const api = fakeApi({ "GET /v1/tools": { data: sampleTools }, "POST /v1/runs": create });
  vi.stubGlobal("fetch", api.fetch);
  const view = renderPage(<NewRunPage />, { route: "/runs/new", path: "/runs/new" });
  return { api, view, user: userEvent.setup() };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("NewRunPage", () => {
  it("offers the task, the options and one checkbox per tool", async () => {
    setup();
    expect(screen.getByRole("heading", { level: 1, name: "New run" })).toBeInTheDocument();
    for (const label of ["Task", "Planner model", "Solver model", "Max steps", "Token budget", "Deadline (seconds)", "Require approval"]) {
      expect(screen.getByLabelText(label)).toBeInTheDocument();
    }
    const tools = screen.getByRole("group", { name: "Tools" });
    expect(await screen.findByRole("checkbox", { name: "calculator" })).not.toBeChecked();
    expect(tools).toContainElement(screen.getByRole("checkbox", { name: "http_get" }));
    expect(screen.getByRole("button", { name: "Start run" })).toBeEnabled();
  });

  it("checks numbers and the task here, with messages next to the fields", async () => {
    const { api, user } = setup();
    await user.type(screen.getByLabelText("Max steps"), "0");
    await user.type(screen.getByLabelText("Token budget"), "12.5");
    await user.type(screen.getByLabelText("Deadline (seconds)"), "ten");
    await user.click(screen.getByRole("button", { name: "Start run" }));

    const task = screen.getByLabelText("Task");
    expect(task).toHaveAttribute("aria-invalid", "true");
    expect(task).toHaveAccessibleDescription(/Enter a task for the run\./);
    expect(task).toHaveFocus();
    const steps = screen.getByLabelText("Max steps");
    expect(steps).toHaveAttribute("aria-invalid", "true");
    expect(steps).toHaveAccessibleDescription(/Max steps must be a whole number greater than 0\./);
    expect(screen.getByLabelText("Token budget")).toHaveAccessibleDescription(/Token budget must be a whole number greater than 0\./);
    expect(screen.getByLabelText("Deadline (seconds)")).toHaveAccessibleDescription(/Deadline \(seconds\) must be a whole number/);
    expect(api.calls("POST /v1/runs")).toHaveLength(0);

    // Fixing a field clears its message.
    await user.clear(steps);
    await user.type(steps, "65");
    expect(steps).not.toHaveAttribute("aria-invalid");
    await user.click(screen.getByRole("button", { name: "Start run" }));
    expect(steps).toHaveAccessibleDescription(/Max steps must be at most 64\./);
  });

  it("sends only the filled options with an Idempotency-Key, then opens the run", async () => {
    const { api, view, user } = setup();
    await user.type(screen.getByLabelText("Task"), "  What is 17 * 23?  ");
    await user.type(screen.getByLabelText("Planner model"), "fake-planner");
    await user.click(await screen.findByRole("checkbox", { name: "calculator" }));
    await user.type(screen.getByLabelText("Max steps"), "5");
    await user.type(screen.getByLabelText("Deadline (seconds)"), "120");
    await user.click(screen.getByLabelText("Require approval"));
    await user.click(screen.getByRole("button", { name: "Start run" }));

    await waitFor(() => expect(view.location()).toBe("/runs/run_new1"));
    const posts = api.calls("POST /v1/runs");
    expect(posts).toHaveLength(1);
    expect(posts[0]?.body).toEqual({
      input: "What is 17 * 23?",
      options: { planner_model: "fake-planner", tools: ["calculator"], max_steps: 5, deadline_s: 120, require_approval: true },
    });
    expect(posts[0]?.headers["idempotency-key"]).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(posts[0]?.headers["content-type"]).toBe("application/json");
  });

  it("sends an empty options object when nothing is filled", async () => {
    const { api, view, user } = setup();
    await user.type(screen.getByLabelText("Task"), "Hello");
    await user.click(screen.getByRole("button", { name: "Start run" }));
    await waitFor(() => expect(view.location()).toBe("/runs/run_new1"));
    expect(api.calls("POST /v1/runs")[0]?.body).toEqual({ input: "Hello", options: {} });
  });

  it("makes one run from a double click", async () => {
    let answer: (r: Response) => void = () => undefined;
    const { api, view, user } = setup(() => new Promise<Response>((resolve) => (answer = resolve)));
    await user.type(screen.getByLabelText("Task"), "Only once");
    await user.dblClick(screen.getByRole("button", { name: "Start run" }));
    await waitFor(() => expect(api.calls("POST /v1/runs")).toHaveLength(1));
    expect(screen.getByRole("button", { name: "Start run" })).toBeDisabled();
    answer(jsonResponse(makeRun({ id: "run_once" }), 201));
    await waitFor(() => expect(view.location()).toBe("/runs/run_once"));
    expect(api.calls("POST /v1/runs")).toHaveLength(1);
  });

  it("shows the server's problem in an alert and reuses the key for the same retry", async () => {
    const { api, view, user } = setup(() =>
      problemResponse(400, "Bad Request", "body.options.tools: unknown tool 'calculator'", "req_bad1"),
    );
    await user.type(screen.getByLabelText("Task"), "Try it");
    await user.click(screen.getByRole("button", { name: "Start run" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("The run was not started");
    expect(alert).toHaveTextContent("unknown tool 'calculator'");
    expect(alert).toHaveTextContent("Request id: req_bad1");
    expect(view.location()).toBe("/runs/new");

    await user.click(screen.getByRole("button", { name: "Start run" }));
    await waitFor(() => expect(api.calls("POST /v1/runs")).toHaveLength(2));
    const [a, b] = api.calls("POST /v1/runs");
    expect(b?.headers["idempotency-key"]).toBe(a?.headers["idempotency-key"]);

    await user.type(screen.getByLabelText("Task"), " again");
    await user.click(screen.getByRole("button", { name: "Start run" }));
    await waitFor(() => expect(api.calls("POST /v1/runs")).toHaveLength(3));
    expect(api.calls("POST /v1/runs")[2]?.headers["idempotency-key"]).not.toBe(a?.headers["idempotency-key"]);
  });

  it("starts the run with Ctrl+Enter in the task", async () => {
    const { api, view, user } = setup();
    const task = screen.getByLabelText("Task");
    await user.type(task, "Keyboard run");
    await user.keyboard("{Control>}{Enter}{/Control}");
    await waitFor(() => expect(view.location()).toBe("/runs/run_new1"));
    expect(api.calls("POST /v1/runs")[0]?.body).toEqual({ input: "Keyboard run", options: {} });
  });

  it("still works when the tools cannot be loaded", async () => {
    const api = fakeApi({
      "GET /v1/tools": () => problemResponse(500, "Internal Server Error", "boom"),
      "POST /v1/runs": () => jsonResponse(makeRun({ id: "run_t" }), 201),
    });
    vi.stubGlobal("fetch", api.fetch);
    const view = renderPage(<NewRunPage />, { route: "/runs/new", path: "/runs/new" });
    expect(await screen.findByText(/Could not load the tools/)).toBeInTheDocument();
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Task"), "No tools list");
    await user.click(screen.getByRole("button", { name: "Start run" }));
    await waitFor(() => expect(view.location()).toBe("/runs/run_t"));
  });

  it("gives every control an accessible name", async () => {
    setup();
    await screen.findByRole("checkbox", { name: "calculator" });
    expect(controlCount()).toBeGreaterThanOrEqual(10);
    expect(unnamedControls()).toEqual([]);
  });
});

describe("form helpers", () => {
  it("checks positive integers", () => {
    expect(checkPositiveInteger("", "Max steps", 64)).toEqual({});
    expect(checkPositiveInteger(" 8 ", "Max steps", 64)).toEqual({ value: 8 });
    expect(checkPositiveInteger("-1", "Max steps", 64).error).toMatch(/whole number greater than 0/);
    expect(checkPositiveInteger("1e3", "Max steps", 64).error).toMatch(/whole number/);
    expect(checkPositiveInteger("99999999999999999999", "Token budget", 1e9).error).toMatch(/whole number|at most/);
  });
  it("refuses a task over 64 KiB", () => {
    const r = buildRequest({ task: "é".repeat(40_000), plannerModel: "", solverModel: "", tools: [], maxSteps: "", tokenBudget: "", deadline: "", requireApproval: false });
    expect("errors" in r && r.errors.task).toMatch(/too long/);
  });
  it("makes distinct idempotency keys, also without randomUUID", () => {
    expect(newIdempotencyKey()).not.toBe(newIdempotencyKey());
    const getRandomValues = (b: Uint8Array) => {
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(Math.random() * 256);
      return b;
    };
    vi.stubGlobal("crypto", { getRandomValues });
    try {
      const k = newIdempotencyKey();
      expect(k).toMatch(/^[0-9a-f]{32}$/);
      expect(k).not.toBe(newIdempotencyKey());
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
