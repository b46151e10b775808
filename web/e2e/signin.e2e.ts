// Scenario 1: a made-up key is refused on the sign-in page; the real admin key signs in; a
// key revoked while in use signs the user out with the reason.
import { spawnSync } from "node:child_process";
import { expect, test } from "vitest";
import { waitForText } from "./harness/checks";
import { grokBinary } from "./harness/paths";
import { screenshot } from "./harness/screenshots";
import { useStack } from "./harness/stack";

const stack = useStack("signin");

test("a made-up key is refused and the admin key signs in", async () => {
  const current = await stack().open({ signedIn: false });
  const { page } = current;
  await page.goto("/");
  const heading = page.getByRole("heading", { level: 1, name: "Sign in to GROK" });
  await heading.waitFor();
  const keyInput = page.getByLabel("API key", { exact: true });
  expect(await keyInput.getAttribute("type")).toBe("password");
  await screenshot(page, "sign-in");

  // Well-formed but unknown: the server answers 401.
  const madeUp = `grok_${"0123456789abcdef".repeat(4)}`;
  await keyInput.fill(madeUp);
  await page.getByRole("button", { name: "Sign in" }).click();
  const alert = page.getByRole("alert");
  await waitForText(alert, /refused/i);
  expect(await heading.isVisible()).toBe(true);
  expect(await page.getByRole("navigation", { name: "Main" }).count()).toBe(0);
  expect(await page.evaluate(() => localStorage.getItem("grok.apiKey"))).toBeNull();
  expect(await page.locator("body").innerText()).not.toContain(madeUp); // a key is never page text
  await screenshot(page, "sign-in-refused");

  await keyInput.fill(stack().grok.adminKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Runs" }).waitFor();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
  for (const link of ["Runs", "New run", "Queue", "Tools"]) {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: link, exact: true }).waitFor();
  }
  expect(await page.getByRole("alert").count()).toBe(0);
  expect(await page.locator("body").innerText()).not.toContain(stack().grok.adminKey);

  // The key is kept: a reload stays signed in.
  await page.reload();
  await page.getByRole("heading", { level: 1, name: "Runs" }).waitFor();

  // Signing out goes back to the sign-in page, on every path.
  await page.getByRole("button", { name: "Sign out" }).click();
  await heading.waitFor();
  await page.goto("/queue");
  await heading.waitFor();
});

// A key revoked while it is in use (the nearest thing GROK has to an expired key): the next
// request is refused, the UI signs out and says why. A `runs` key also meets the queue
// page's admin-only message on the way.
test("a key revoked while signed in sends the user back to sign-in with the reason", async () => {
  const grok = stack().grok;
  const env = { ...process.env, GROK_DATA_DIR: grok.dataDir };
  const created = spawnSync(grokBinary, ["keys", "create", "--scope", "runs", "--name", "e2e-revoked"], { env, encoding: "utf8" });
  expect(created.status, created.stderr).toBe(0);
  const key = created.stdout.trim();
  const id = /created runs key (key_\S+)/.exec(created.stderr)?.[1];
  expect(id, created.stderr).toBeTruthy();

  const { page } = await stack().open({ signedIn: false });
  await page.goto("/");
  await page.getByLabel("API key", { exact: true }).fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Runs" }).waitFor();

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Queue", exact: true }).click();
  await waitForText(page.getByRole("note"), "The queue needs an admin key.");

  const revoked = spawnSync(grokBinary, ["keys", "revoke", id ?? ""], { env, encoding: "utf8" });
  expect(revoked.status, revoked.stderr).toBe(0);

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Tools", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "Sign in to GROK" }).waitFor();
  await waitForText(page.getByRole("alert"), /refused/i);
  expect(await page.evaluate(() => localStorage.getItem("grok.apiKey"))).toBeNull();
  await screenshot(page, "sign-in-key-revoked");
});
