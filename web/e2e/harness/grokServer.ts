// A real `grok serve` for the e2e tests, set up as tests/tests_support/grok_server.cpp does:
// a fresh data directory, 127.0.0.1 on a free port (read from the "ready" log line), the
// admin key the first start prints alone on stdout, the fake model server as its model.
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { artifactsDir, grokBinary } from "./paths";
import { pollUntil, startChild, stopChild, waitForLine, type Child } from "./process";

export interface GrokServer {
  readonly url: string; // http://127.0.0.1:PORT
  readonly port: number;
  readonly adminKey: string;
  readonly dataDir: string;
  readonly dbPath: string;
  readonly logPath: string;
  // fetch with the admin key (JSON bodies)
  api(method: string, p: string, body?: unknown): Promise<Response>;
  stop(): Promise<number | null>;
}

export interface GrokOptions {
  llmBaseUrl: string;
  name: string; // names the log file in e2e-artifacts/logs/
  env?: Record<string, string>;
}

let starts = 0;

export async function startGrok(options: GrokOptions): Promise<GrokServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "grok-e2e-"));
  const logDir = path.join(artifactsDir, "logs");
  mkdirSync(logDir, { recursive: true });
  // One log per test file, replaced by the next run of that file.
  starts += 1;
  const logPath = path.join(logDir, `${options.name}${starts > 1 ? `-${starts}` : ""}.log`);
  const log = createWriteStream(logPath);
  // A clean environment: nothing from the caller's GROK_* settings leaks in but the UI
  // directory, which points a binary at a fresh `vite build` without rebuilding it.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dataDir,
    GROK_DATA_DIR: dataDir,
    GROK_LISTEN: "127.0.0.1:0",
    GROK_WORKERS: "2",
    GROK_LLM_BASE_URL: options.llmBaseUrl,
    GROK_PLANNER_MODEL: "planner-m",
    GROK_SOLVER_MODEL: "solver-m",
    GROK_LOG_LEVEL: "info",
    GROK_QUEUE_IDLE_RECHECK_MS: "50",
    ...(process.env.GROK_UI_DIR ? { GROK_UI_DIR: process.env.GROK_UI_DIR } : {}),
    ...options.env,
  };
  let child: Child;
  try {
    child = startChild([grokBinary, "serve"], { cwd: dataDir, env, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`cannot start ${grokBinary} (set GROK_BIN): ${String(e)}`);
  }
  child.proc.stderr?.on("data", (d: Buffer) => log.write(d));
  const cleanup = async () => {
    const code = await stopChild(child);
    await new Promise((r) => log.end(r));
    rmSync(dataDir, { recursive: true, force: true });
    return code;
  };
  try {
    // The key comes alone on stdout before the ready line; it is never written to the log.
    const keyLine = waitForLine(child, "stdout", /^(grok_[0-9a-f]{64})\s*$/, 30_000);
    keyLine.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
    const ready = await waitForLine(child, "stderr", /ready: listening on \S+ \(port (\d+)\), database (\S+),/, 30_000);
    const adminKey = (await keyLine)[1] ?? "";
    child.proc.stdout?.resume();
    const port = Number(ready[1]);
    // "database sqlite:///path/grok.db"
    const dbPath = (ready[2] ?? "").replace(/,$/, "").replace(/^sqlite:\/\//, "");
    const url = `http://127.0.0.1:${port}`;
    await pollUntil(
      "GET /readyz to answer 200",
      async () => ((await fetch(url + "/readyz", { signal: AbortSignal.timeout(2_000) })).status === 200 ? true : undefined),
      30_000,
    );
    return {
      url,
      port,
      adminKey,
      dataDir,
      dbPath,
      logPath,
      api: (method, p, body) =>
        fetch(url + p, {
          method,
          headers: { Authorization: `Bearer ${adminKey}`, "Content-Type": "application/json" },
          body: body === undefined ? null : JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        }),
      stop: cleanup,
    };
  } catch (e) {
    await cleanup();
    throw new Error(`grok serve did not start (log: ${logPath}): ${String(e)}`);
  }
}
