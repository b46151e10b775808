// End-to-end tests: a real `grok serve` (GROK_BIN), the scripted fake model server and
// Debian's Chromium driven by playwright-core. One file at a time: they share the browser.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["e2e/**/*.e2e.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
