// Screenshots of a page at the two sizes the UI must work at, into web/e2e-artifacts/
// (gitignored; the folder is the test artifact). Named `<name>-<width>x<height>.png`.
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { desktop, phone, type Viewport } from "./browser";
import { artifactsDir } from "./paths";

export const taken: string[] = [];

// Waits until the layout has settled after a resize: two animation frames.
async function settled(page: Page): Promise<void> {
  await page.evaluate(
    () => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))),
  );
}

export async function screenshot(page: Page, name: string, sizes: Viewport[] = [desktop, phone]): Promise<string[]> {
  mkdirSync(artifactsDir, { recursive: true });
  const before = page.viewportSize();
  const files: string[] = [];
  for (const size of sizes) {
    await page.setViewportSize(size);
    await settled(page);
    const file = path.join(artifactsDir, `${name}-${size.width}x${size.height}.png`);
    await page.screenshot({ path: file, fullPage: true });
    files.push(file);
    taken.push(file);
  }
  if (before) {
    await page.setViewportSize(before);
    await settled(page);
  }
  return files;
}
