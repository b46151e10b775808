// Everything one e2e test file needs: the fake model (calculator script), a real grok
// serve, and Chromium; pages opened through it are closed and checked by `stop`.
import { existsSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { desktop, launchBrowser, openPage, type GuardedPage, type PageOptions } from "./browser";
import { startFakeModel, type FakeModel } from "./fakeModel";
import { startGrok, type GrokServer } from "./grokServer";
import { pollUntil } from "./process";
import { calculatorScript } from "./scripts";
import { artifactsDir } from "./paths";
import { screenshot, taken } from "./screenshots";

export interface RunJson {
  id: string;
  status: string;
  input: string;
  answer: string | null;
  error: { code: string; message: string } | null;
}

export interface Stack {
  fake: FakeModel;
  grok: GrokServer;
  browser: Browser;
  // A page in a fresh context; signed in with the admin key unless `signedIn` is false.
  open(options?: Omit<PageOptions, "baseURL" | "apiKey"> & { signedIn?: boolean }): Promise<GuardedPage>;
  createRun(task: string): Promise<RunJson>;
  getRun(id: string): Promise<RunJson>;
  waitForRun(id: string, status: string, timeoutMs?: number): Promise<RunJson>;
  // The pages opened by the current test (the list starts empty at each test).
  openedInTest(): GuardedPage[];
  startTest(): void;
  stop(): Promise<void>;
}

export async function startStack(name: string): Promise<Stack> {
  const fake = await startFakeModel();
  let grok: GrokServer | undefined;
  let browser: Browser | undefined;
  try {
    await fake.setScript(calculatorScript());
    grok = await startGrok({ llmBaseUrl: fake.baseUrl, name });
    browser = await launchBrowser();
  } catch (e) {
    await grok?.stop();
    await fake.stop();
    throw e;
  }
  const g = grok;
  const b = browser;
  const pages: GuardedPage[] = [];
  let opened: GuardedPage[] = [];
  const getRun = async (id: string): Promise<RunJson> => {
    const r = await g.api("GET", `/v1/runs/${id}`);
    if (!r.ok) throw new Error(`GET /v1/runs/${id}: ${r.status} ${await r.text()}`);
    return (await r.json()) as RunJson;
  };
  return {
    fake,
    grok: g,
    browser: b,
    open: async (o = {}) => {
      const { signedIn = true, ...rest } = o;
      const p = await openPage(b, { ...rest, baseURL: g.url, ...(signedIn ? { apiKey: g.adminKey } : {}) });
      pages.push(p);
      opened.push(p);
      return p;
    },
    createRun: async (task) => {
      const r = await g.api("POST", "/v1/runs", { input: task });
      if (r.status !== 201) throw new Error(`POST /v1/runs: ${r.status} ${await r.text()}`);
      return (await r.json()) as RunJson;
    },
    getRun,
    waitForRun: (id, status, timeoutMs = 30_000) =>
      pollUntil(
        `run ${id} to be ${status}`,
        async () => {
          const run = await getRun(id);
          return run.status === status ? run : undefined;
        },
        timeoutMs,
        100,
      ),
    openedInTest: () => [...opened],
    startTest: () => {
      opened = [];
    },
    stop: async () => {
      for (const p of pages) await p.close().catch(() => undefined);
      await b.close().catch(() => undefined);
      await g.stop();
      await fake.stop();
      const shots = taken.splice(0).map((f) => path.basename(f));
      console.log(`e2e artifacts (screenshots, grok logs) in ${artifactsDir}: ${shots.join(", ") || "no screenshots"}`);
    },
  };
}

// Registers the hooks of a test file: the stack starts before its first test and stops
// after its last; after each test the pages it opened must have seen no request leave
// 127.0.0.1, no uncaught error and no rate limiting; a failed test leaves a screenshot of
// each page it opened (FAILED-<file>-<test>-<n>-<size>.png).
export function useStack(name: string, setup?: (s: Stack) => Promise<void>): () => Stack {
  let stack: Stack | undefined;
  beforeAll(async () => {
    // Failure shots of this file's previous run would mislead.
    for (const f of existsSync(artifactsDir) ? readdirSync(artifactsDir) : []) {
      if (f.startsWith(`FAILED-${name}-`)) rmSync(path.join(artifactsDir, f), { force: true });
    }
    stack = await startStack(name);
    if (setup) await setup(stack);
  });
  afterAll(async () => {
    await stack?.stop();
  });
  beforeEach(({ task, onTestFailed }) => {
    stack?.startTest();
    onTestFailed(async () => {
      const slug = task.name.replace(/[^A-Za-z0-9]+/g, "-").slice(0, 60);
      let n = 0;
      for (const p of stack?.openedInTest() ?? []) {
        n += 1;
        await screenshot(p.page, `FAILED-${name}-${slug}-${n}`, [p.page.viewportSize() ?? desktop]).catch(() => undefined);
      }
    });
  });
  afterEach(() => {
    const problems = (stack?.openedInTest() ?? []).flatMap((p) => p.problems());
    expect(problems).toEqual([]);
  });
  return () => {
    if (!stack) throw new Error("the e2e stack did not start");
    return stack;
  };
}
