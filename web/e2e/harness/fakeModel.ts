// The scripted fake OpenAI-compatible model server (tests/fakes/fake_openai.py) as a child
// process on 127.0.0.1, with its control endpoints (/_script, /_requests, /_reset).
import path from "node:path";
import { repoRoot } from "./paths";
import { startChild, stopChild, waitForLine, type Child } from "./process";

export interface FakeModel {
  readonly port: number;
  readonly baseUrl: string; // what GROK_LLM_BASE_URL gets: http://127.0.0.1:PORT/v1
  setScript(script: unknown): Promise<void>;
  requests(): Promise<Array<{ path: string; body: { model?: string; messages?: Array<{ content?: string }> } }>>;
  stop(): Promise<void>;
}

export async function startFakeModel(): Promise<FakeModel> {
  const script = path.join(repoRoot, "tests/fakes/fake_openai.py");
  const child: Child = startChild(["/usr/bin/python3", script, "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PYTHONUNBUFFERED: "1" },
  });
  child.proc.stderr?.resume();
  let port: number;
  try {
    const m = await waitForLine(child, "stdout", /listening on 127\.0\.0\.1:(\d+)/, 20_000);
    port = Number(m[1]);
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  child.proc.stdout?.resume();
  const control = `http://127.0.0.1:${port}`;
  const post = async (p: string, body: unknown) => {
    const r = await fetch(control + p, { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    if (!r.ok) throw new Error(`fake model ${p}: HTTP ${r.status} ${await r.text()}`);
  };
  return {
    port,
    baseUrl: `${control}/v1`,
    setScript: (s) => post("/_script", s),
    requests: async () => {
      const r = await fetch(control + "/_requests", { signal: AbortSignal.timeout(10_000) });
      return (await r.json()) as Awaited<ReturnType<FakeModel["requests"]>>;
    },
    stop: async () => {
      await stopChild(child, 5_000);
    },
  };
}
