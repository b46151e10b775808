// Scenarios 2–5: a run submitted from New run completes live (WebSocket, then SSE forced)
// with its plan graph and streamed answer; a failing run shows its reason; the runs list
// follows a run created elsewhere without a reload.
import { expect, test } from "vitest";
import type { GuardedPage } from "./harness/browser";
import { textOf, uiTimeout, waitForCount, waitForText } from "./harness/checks";
import {
  deltaCount,
  partialStates,
  recordLiveTexts,
  recordedTexts,
  runIdFromUrl,
  timelineEntries,
  waitForEdge,
  waitForPlanNodes,
  waitForTimelineEnd,
  waitForStatus,
} from "./harness/runView";
import { screenshot } from "./harness/screenshots";
import { answer, calculatorTask, failWord } from "./harness/scripts";
import { useStack } from "./harness/stack";

const stack = useStack("runs");

// Fills the New run form with a task and starts it; returns the new run's id from the URL.
async function submitRun(g: GuardedPage, task: string, shotName?: string): Promise<string> {
  const { page } = g;
  await page.goto("/runs/new");
  await page.getByRole("heading", { level: 1, name: "New run" }).waitFor();
  for (const label of ["Planner model", "Solver model", "Max steps", "Token budget", "Deadline (seconds)"]) {
    await page.getByLabel(label, { exact: true }).waitFor();
  }
  await page.getByRole("group", { name: "Tools" }).getByRole("checkbox", { name: "calculator", exact: true }).waitFor();
  await page.getByRole("checkbox", { name: "Require approval", exact: true }).waitFor();
  await page.getByLabel("Task", { exact: true }).fill(task);
  if (shotName) await screenshot(page, shotName);
  await page.getByRole("button", { name: "Start run", exact: true }).click();
  await page.waitForURL(/\/runs\/run_[^/]+$/, { timeout: uiTimeout });
  const id = runIdFromUrl(page.url());
  await page.getByRole("heading", { level: 1, name: id }).waitFor();
  return id;
}

// Everything a completed calculator run shows: status, graph, answer, timeline.
async function expectCompletedRunView(g: GuardedPage, id: string): Promise<void> {
  const { page } = g;
  await waitForStatus(page, "completed");
  expect(await textOf(page.locator("main"))).toContain(calculatorTask);

  const answerRegion = page.getByRole("region", { name: "Answer", exact: true });
  await waitForText(answerRegion, answer);

  await waitForPlanNodes(page, ["E1", "E2"], "calculator", "done");
  await waitForEdge(page, "E1", "E2");

  const timeline = await waitForTimelineEnd(page, "run.completed");
  expect(timeline[0]).toMatch(/run\.created/);
  expect(timeline.some((t) => /plan\.created/.test(t))).toBe(true);

  // The run is over: no cancel button; the server agrees with the page.
  expect(await page.getByRole("button", { name: "Cancel run" }).count()).toBe(0);
  const run = await stack().getRun(id);
  expect(run.status).toBe("completed");
  expect(run.answer).toBe(answer);
}

test("a run submitted from New run completes live over the WebSocket, with its plan graph and streamed answer", async () => {
  const current = await stack().open();
  const { page } = current;
  await recordLiveTexts(page);
  const id = await submitRun(current, calculatorTask, "new-run");
  await expectCompletedRunView(current, id);

  // Streamed: the Answer region showed part of the answer before all of it.
  const texts = await recordedTexts(page, "Answer");
  expect(partialStates(texts, answer), `answer texts seen: ${JSON.stringify(texts)}`).not.toHaveLength(0);
  // The stream is stored as llm.delta events (several), and the timeline accounts for them.
  const timeline = await timelineEntries(page);
  expect(deltaCount(timeline), `timeline: ${JSON.stringify(timeline)}`).toBeGreaterThanOrEqual(2);

  await waitForText(page.getByRole("status", { name: "Live updates", exact: true }), /^Live \(WebSocket\)$/);
  // One entry per step; the arguments may sit in a collapsed <details>, so read the DOM text.
  const steps = page.getByRole("region", { name: "Steps", exact: true });
  await waitForText(steps, /E1.*calculator.*E2.*calculator/);
  const stepsText = (await steps.textContent()) ?? "";
  expect(stepsText).toContain("6 * 7");
  expect(stepsText).toContain("#E1 + 1");
  await screenshot(page, "run-completed");
});

test("with SSE forced the run view follows the run over SSE", async () => {
  const current = await stack().open({ transport: "sse" });
  const { page } = current;
  const sockets: string[] = [];
  const streams: string[] = [];
  page.on("websocket", (ws) => sockets.push(ws.url()));
  page.on("request", (r) => {
    if (/\/v1\/runs\/run_[^/]+\/stream/.test(r.url())) streams.push(r.url());
  });
  await recordLiveTexts(page);
  const id = await submitRun(current, calculatorTask);
  await expectCompletedRunView(current, id);
  // The SSE stream ends with the run (the server closes it after the terminal event), so the
  // indicator said "Live (SSE)" while the run was going, and never "Live (WebSocket)".
  const labels = await recordedTexts(page, "Live updates");
  expect(labels, `indicator texts: ${JSON.stringify(labels)}`).toContain("Live (SSE)");
  expect(labels).not.toContain("Live (WebSocket)");
  expect(streams.some((u) => u.includes(`/v1/runs/${id}/stream`)), `stream requests: ${JSON.stringify(streams)}`).toBe(true);
  expect(sockets, "SSE was forced, yet a WebSocket was opened").toEqual([]);
  const texts = await recordedTexts(page, "Answer");
  expect(partialStates(texts, answer), `answer texts seen: ${JSON.stringify(texts)}`).not.toHaveLength(0);
});

test("a failing run shows 'Run failed' with the server's reason", async () => {
  const current = await stack().open();
  const { page } = current;
  const id = await submitRun(current, `${failWord}: plan something impossible`);
  await waitForStatus(page, "failed");
  const run = await stack().getRun(id);
  expect(run.error?.code).toBe("plan_invalid");
  const reason = run.error?.message ?? "";
  expect(reason).toMatch(/invalid twice/);

  const alert = page.getByRole("alert").filter({ has: page.getByRole("heading", { name: "Run failed" }) });
  await alert.waitFor({ timeout: uiTimeout });
  expect(await textOf(alert)).toContain(reason);
  expect(await page.getByRole("button", { name: "Cancel run" }).count()).toBe(0);
  const timeline = await waitForTimelineEnd(page, "run.failed");
  expect(timeline[0]).toMatch(/run\.created/);
  await screenshot(page, "run-failed");
});

test("the runs list shows a run created through the API and follows it to completed without a reload", async () => {
  const current = await stack().open();
  const { page } = current;
  await page.goto("/runs");
  await page.getByRole("heading", { level: 1, name: "Runs" }).waitFor();
  const table = page.getByRole("table", { name: "Runs", exact: true });
  await table.waitFor();
  await page.getByLabel("Status", { exact: true }).waitFor();
  let navigations = 0;
  page.on("framenavigated", (f) => {
    if (f === page.mainFrame()) navigations++;
  });
  await page.evaluate(() => ((window as unknown as { __e2eSameDocument: boolean }).__e2eSameDocument = true));

  const task = "Live list run";
  const run = await stack().createRun(task);
  const row = table.getByRole("row").filter({ has: page.getByRole("link", { name: task }) });
  await row.waitFor({ timeout: uiTimeout });
  const link = row.getByRole("link", { name: task });
  expect(new URL(await link.evaluate((a) => (a as HTMLAnchorElement).href)).pathname).toBe(`/runs/${run.id}`);
  await waitForText(row, /\bcompleted\b/);

  expect(navigations, "the runs page reloaded").toBe(0);
  expect(await page.evaluate(() => (window as unknown as { __e2eSameDocument?: boolean }).__e2eSameDocument)).toBe(true);
  expect((await stack().getRun(run.id)).status).toBe("completed");
  await screenshot(page, "runs-list");
});

test("the Status filter shows only runs of that status", async () => {
  const failing = await stack().createRun(`${failWord} filter check`);
  await stack().waitForRun(failing.id, "failed");
  const passing = await stack().createRun("Filter check, completes");
  await stack().waitForRun(passing.id, "completed");
  const current = await stack().open();
  const { page } = current;
  await page.goto("/runs");
  const table = page.getByRole("table", { name: "Runs", exact: true });
  const rowOf = (id: string) => table.getByRole("row").filter({ has: page.locator(`a[href$="/runs/${id}"]`) });
  await rowOf(failing.id).waitFor();
  await rowOf(passing.id).waitFor();
  // Rows with a run link are runs; each one's text names its status.
  const runRows = table.getByRole("row").filter({ has: page.locator('a[href*="/runs/run_"]') });
  const statuses = async () =>
    (await runRows.allInnerTexts()).map((t) => t.match(/\b(queued|running|awaiting_input|completed|failed|cancelled)\b/)?.[1] ?? t);

  await page.getByLabel("Status", { exact: true }).selectOption({ label: "failed" });
  await waitForCount(rowOf(passing.id), (n) => n === 0, "the completed run to leave the failed filter");
  await rowOf(failing.id).waitFor();
  await expect.poll(statuses, { timeout: uiTimeout }).toSatisfy((s: string[]) => s.length > 0 && s.every((x) => x === "failed"));

  await page.getByLabel("Status", { exact: true }).selectOption({ label: "completed" });
  await waitForCount(rowOf(failing.id), (n) => n === 0, "the failed run to leave the completed filter");
  await rowOf(passing.id).waitFor();
  await expect.poll(statuses, { timeout: uiTimeout }).toSatisfy((s: string[]) => s.length > 0 && s.every((x) => x === "completed"));

  await page.getByLabel("Status", { exact: true }).selectOption({ label: "All" });
  await rowOf(failing.id).waitFor();
  await rowOf(passing.id).waitFor();
});
