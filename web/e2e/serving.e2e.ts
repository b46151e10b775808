// Scenario 9: grok serve serves the UI itself: index.html at `/` as text/html, the SPA
// fallback for deep links, hashed assets cached as immutable, the API untouched.
import { expect, test } from "vitest";
import { useStack } from "./harness/stack";

const stack = useStack("serving");

const get = (path: string) => fetch(stack().grok.url + path, { signal: AbortSignal.timeout(10_000) });

test("/ is the UI's index.html, deep links fall back to it, assets are immutable", async () => {
  const root = await get("/");
  expect(root.status).toBe(200);
  expect(root.headers.get("content-type") ?? "").toMatch(/^text\/html/);
  expect(root.headers.get("cache-control") ?? "").not.toMatch(/immutable/);
  const html = await root.text();
  expect(html).toContain('<div id="root"></div>');
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] ?? "");
  expect(assets.some((a) => a.endsWith(".js")), `no script under /assets in ${html}`).toBe(true);

  for (const deep of ["/runs/run_x/steps", "/runs/run_x", "/queue", "/no/such/page"]) {
    const r = await get(deep);
    expect(r.status, deep).toBe(200);
    expect(r.headers.get("content-type") ?? "", deep).toMatch(/^text\/html/);
    expect(await r.text(), deep).toBe(html);
  }

  for (const asset of assets) {
    const r = await get(asset);
    expect(r.status, asset).toBe(200);
    const type = r.headers.get("content-type") ?? "";
    if (asset.endsWith(".js")) expect(type, asset).toMatch(/^(text|application)\/javascript/);
    if (asset.endsWith(".css")) expect(type, asset).toMatch(/^text\/css/);
    expect(r.headers.get("cache-control") ?? "", asset).toMatch(/immutable/);
    expect(r.headers.get("cache-control") ?? "", asset).toMatch(/max-age=\d{6,}/);
    await r.arrayBuffer();
  }

  // API paths are never answered with the UI.
  const api = await get("/v1/no-such-route");
  expect(api.status).toBe(404);
  expect(api.headers.get("content-type") ?? "").not.toMatch(/text\/html/);
  await api.arrayBuffer();
  expect((await get("/healthz")).status).toBe(200);
});

test("a deep link loads the app: signed out it asks for a key, signed in it shows the page", async () => {
  const current = await stack().open({ signedIn: false });
  await current.page.goto("/runs/run_x/steps");
  await current.page.getByRole("heading", { level: 1, name: "Sign in to GROK" }).waitFor();

  const signedIn = await stack().open();
  await signedIn.page.goto("/no/such/page");
  await signedIn.page.getByRole("heading", { level: 1, name: "Page not found" }).waitFor();
  await signedIn.page.getByRole("link", { name: "Runs" }).first().waitFor();
  await signedIn.page.goto("/tools");
  await signedIn.page.getByRole("heading", { level: 1, name: "Tools" }).waitFor();
});
