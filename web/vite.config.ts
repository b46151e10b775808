// Vite builds the UI into web/dist, which the grok binary embeds and serves at `/`.
// `npm run dev` serves the UI with hot reload and proxies the API to a running
// `grok serve` (GROK_DEV_API, default http://127.0.0.1:8080), WebSocket included.
import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

const api = process.env.GROK_DEV_API ?? "http://127.0.0.1:8080";
const proxied = ["/v1", "/healthz", "/readyz", "/metrics", "/openapi.json"];

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    proxy: Object.fromEntries(proxied.map((p) => [p, { target: api, ws: p === "/v1" }])),
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    restoreMocks: true,
    // Bounds, not expectations: ctest runs these beside the C++ suites on 2 cores, where a
    // test that takes 0.5 s alone can take several.
    testTimeout: 30_000,
  },
});
