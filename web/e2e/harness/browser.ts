// Debian's Chromium through playwright-core: one browser per test file, a fresh context
// (temporary profile) per test, and a guard that refuses and records any request that is
// not to 127.0.0.1, and any uncaught error in the page.
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { chromiumPath } from "./paths";

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

export const desktop = { width: 1280, height: 800 } as const;
export const phone = { width: 390, height: 844 } as const;
export type Viewport = { width: number; height: number };

export interface PageOptions {
  baseURL: string;
  viewport?: Viewport;
  apiKey?: string; // signed in from the first load (localStorage "grok.apiKey")
  transport?: "websocket" | "sse" | "poll"; // localStorage "grok.transport"
}

export interface GuardedPage {
  context: BrowserContext;
  page: Page;
  // Requests refused because they were not to 127.0.0.1, uncaught page errors, and
  // responses the server rate-limited: each one fails the test.
  problems(): string[];
  close(): Promise<void>;
}

export async function openPage(browser: Browser, options: PageOptions): Promise<GuardedPage> {
  const context = await browser.newContext({
    baseURL: options.baseURL,
    viewport: options.viewport ?? desktop,
    serviceWorkers: "block",
  });
  const problems: string[] = [];
  const local = (url: string) => {
    try {
      const u = new URL(url);
      return u.protocol === "data:" || u.protocol === "blob:" || u.protocol === "about:" || u.hostname === "127.0.0.1";
    } catch {
      return false;
    }
  };
  await context.route("**/*", async (route) => {
    const url = route.request().url();
    if (local(url)) return route.continue();
    problems.push(`request to a host other than 127.0.0.1 refused: ${url}`);
    return route.abort("blockedbyclient");
  });
  const settings: Record<string, string> = {};
  if (options.apiKey) settings["grok.apiKey"] = options.apiKey;
  if (options.transport) settings["grok.transport"] = options.transport;
  if (Object.keys(settings).length > 0) {
    // Only on the first load of the context's first page: a later reload sees what the app
    // itself stored (a sign-out stays signed out).
    await context.addInitScript((s: Record<string, string>) => {
      try {
        if (sessionStorage.getItem("e2e.seeded")) return;
        sessionStorage.setItem("e2e.seeded", "1");
        for (const [k, v] of Object.entries(s)) localStorage.setItem(k, v);
      } catch {
        // about:blank has no storage
      }
    }, settings);
  }
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push(`uncaught error in the page: ${e.message}`));
  page.on("websocket", (ws) => {
    if (!local(ws.url().replace(/^ws/, "http"))) problems.push(`WebSocket to a host other than 127.0.0.1: ${ws.url()}`);
  });
  page.on("response", (r) => {
    if (r.status() === 429) problems.push(`rate limited: ${r.request().method()} ${r.url().replace(/access_token=[^&]*/, "access_token=…")}`);
  });
  return {
    context,
    page,
    problems: () => [...problems],
    close: () => context.close(),
  };
}
