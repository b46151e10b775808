// Scenarios 6 and 7: a dead letter is listed with its last error and requeued from the
// queue page; the tools page lists the server's tools with their argument schemas.
import { expect, test } from "vitest";
import { textOf, waitForCount, waitForText } from "./harness/checks";
import { seedDeadLetter } from "./harness/deadLetter";
import { screenshot } from "./harness/screenshots";
import { calculatorTask } from "./harness/scripts";
import { useStack } from "./harness/stack";

// A finished run first, so that the depth table has the engine's topics beside the seeded one.
const stack = useStack("queue", async (s) => {
  const run = await s.createRun(calculatorTask);
  await s.waitForRun(run.id, "completed");
});

interface QueueStats {
  depth: Array<{ topic: string; state: string; count: number }>;
}

test("a dead letter is listed with its last error and requeued", async () => {
  const job = await seedDeadLetter(stack().grok.dbPath);
  const current = await stack().open();
  const { page } = current;
  await page.goto("/queue");
  await page.getByRole("heading", { level: 1, name: "Queue" }).waitFor();
  const depth = page.getByRole("table", { name: "Queue depth", exact: true });
  const dead = page.getByRole("table", { name: "Dead letters", exact: true });
  await depth.waitFor();
  await dead.waitFor();

  const row = dead.getByRole("row").filter({ hasText: job.lastError });
  await row.waitFor();
  const rowText = await textOf(row);
  expect(rowText).toContain(String(job.id));
  expect(rowText).toContain(job.topic);
  await waitForText(depth.getByRole("row").filter({ hasText: job.topic }), /\bdead\b/);
  await screenshot(page, "queue-dead-letter");

  await row.getByRole("button", { name: `Requeue job ${job.id}`, exact: true }).click();
  await page.getByRole("status").filter({ hasText: `Job ${job.id} requeued` }).waitFor();
  await waitForCount(dead.getByRole("row").filter({ hasText: job.lastError }), (n) => n === 0, "the requeued row to leave");
  await waitForText(page.locator("main"), "No dead letters");

  // It is queued again, and with no worker for its topic it stays so; nothing is dead.
  const r = await stack().grok.api("GET", "/v1/queue");
  const stats = (await r.json()) as QueueStats;
  expect(stats.depth.filter((d) => d.topic === job.topic)).toEqual([{ topic: job.topic, state: "ready", count: 1 }]);
  expect(stats.depth.filter((d) => d.state === "dead" && d.count > 0)).toEqual([]);
  const topicRows = depth.getByRole("row").filter({ hasText: job.topic });
  await waitForText(topicRows, /\bready\b/);
  // The depth table's rows as cell texts: no row says dead with a count above 0.
  const deadRows = async () =>
    (
      await depth.getByRole("row").evaluateAll((rows) =>
        rows.map((r) => Array.from(r.querySelectorAll("td,th")).map((c) => (c.textContent ?? "").trim())),
      )
    ).filter((cells) => cells.includes("dead") && cells.some((c) => /^[1-9][0-9,]*$/.test(c)));
  await expect.poll(deadRows, { timeout: 10_000, message: "a dead count above 0 in the depth table" }).toEqual([]);
  await screenshot(page, "queue-requeued");
});

test("the tools page lists every tool the server offers, calculator with its expression argument", async () => {
  const current = await stack().open();
  const { page } = current;
  await page.goto("/tools");
  await page.getByRole("heading", { level: 1, name: "Tools" }).waitFor();
  const r = await stack().grok.api("GET", "/v1/tools");
  const tools = ((await r.json()) as { data: Array<{ name: string }> }).data.map((t) => t.name);
  expect(tools).toContain("calculator");
  const article = (name: string) =>
    page.getByRole("article").filter({ has: page.getByRole("heading", { level: 2, name, exact: true }) });
  for (const name of tools) await article(name).waitFor();
  expect(await page.getByRole("article").count()).toBe(tools.length);

  const calc = article("calculator");
  const calcText = await textOf(calc);
  expect(calcText).toContain("expression");
  const details = calc.locator("details");
  expect(await details.count()).toBeGreaterThan(0);
  expect(await details.first().textContent()).toContain('"expression"');
  await screenshot(page, "tools");
});
