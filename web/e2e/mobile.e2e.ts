// Scenario 8: at phone size (390×844) the pages do not scroll sideways (tables and the
// graph scroll in their own box) and every control has an accessible name, as Chromium's
// accessibility tree computes it. The same names are checked at desktop size.
import { expect, test } from "vitest";
import type { Page } from "playwright-core";
import { desktop, phone, type Viewport } from "./harness/browser";
import { horizontalOverflow, unnamedControls, waitForText } from "./harness/checks";
import { waitForPlanNodes, waitForStatus } from "./harness/runView";
import { answer, calculatorTask } from "./harness/scripts";
import { useStack } from "./harness/stack";

let runId = "";
const stack = useStack("mobile", async (s) => {
  const run = await s.createRun(calculatorTask);
  await s.waitForRun(run.id, "completed");
  runId = run.id;
});

// The layout and the names of one page, as a list of findings (empty when it is right).
async function layoutFindings(page: Page, where: string, size: Viewport): Promise<string[]> {
  const findings: string[] = [];
  const o = await horizontalOverflow(page);
  if (o.scrollWidth > o.clientWidth) {
    findings.push(
      `${where} at ${size.width}x${size.height}: the page scrolls sideways (scrollWidth ${o.scrollWidth} > clientWidth ${o.clientWidth}); sticking out: ${o.widest.join(", ")}`,
    );
  }
  for (const u of await unnamedControls(page)) findings.push(`${where} at ${size.width}x${size.height}: ${u}`);
  return findings;
}

const pages: Array<{ path: () => string; ready: (p: Page) => Promise<void> }> = [
  {
    path: () => `/runs/${runId}`,
    ready: async (p) => {
      await waitForStatus(p, "completed");
      await waitForText(p.getByRole("region", { name: "Answer", exact: true }), answer);
      await waitForPlanNodes(p, ["E1", "E2"], "calculator", "done");
    },
  },
  {
    path: () => "/runs",
    ready: async (p) => {
      await p.getByRole("table", { name: "Runs", exact: true }).getByRole("link", { name: calculatorTask }).waitFor();
    },
  },
  { path: () => "/runs/new", ready: (p) => p.getByLabel("Task", { exact: true }).waitFor() },
  { path: () => "/queue", ready: (p) => p.getByRole("table", { name: "Queue depth", exact: true }).waitFor() },
  {
    path: () => "/tools",
    ready: (p) => p.getByRole("heading", { level: 2, name: "calculator", exact: true }).waitFor(),
  },
  { path: () => "/no/such/page", ready: (p) => p.getByRole("heading", { level: 1, name: "Page not found" }).waitFor() },
];

for (const size of [phone, desktop]) {
  test(`at ${size.width}x${size.height} no page scrolls sideways and every control has a name`, async () => {
    const current = await stack().open({ viewport: size });
    const { page } = current;
    const findings: string[] = [];
    for (const p of pages) {
      await page.goto(p.path());
      await p.ready(page);
      findings.push(...(await layoutFindings(page, p.path(), size)));
    }
    expect(findings).toEqual([]);
  });
}

test("at 390x844 the sign-in page does not scroll sideways and its controls have names", async () => {
  const current = await stack().open({ viewport: phone, signedIn: false });
  const { page } = current;
  await page.goto(`/runs/${runId}`);
  await page.getByRole("heading", { level: 1, name: "Sign in to GROK" }).waitFor();
  expect(await layoutFindings(page, "sign-in", phone)).toEqual([]);
});
