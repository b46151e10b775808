// Child processes for the e2e harness: started with a parent-death signal (so a crashed
// test run leaves nothing behind), waited on with bounded timeouts, stopped by their PID.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { existsSync } from "node:fs";

export interface Child {
  readonly pid: number;
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  hasExited(): boolean;
}

// `setpriv --pdeathsig KILL` makes the kernel kill the child when this process dies, the
// same guarantee the C++ tests get from PR_SET_PDEATHSIG.
const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

export function startChild(argv: string[], options: SpawnOptions): Child {
  const [file, ...args] = setpriv ? [setpriv, "--pdeathsig", "KILL", "--", ...argv] : argv;
  if (!file) throw new Error("startChild: empty command");
  const proc = spawn(file, args, options);
  if (proc.pid === undefined) throw new Error(`could not start ${argv.join(" ")}`);
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    proc.once("exit", (code, signal) => {
      done = true;
      resolve(code ?? (signal ? -1 : null));
    });
    proc.once("error", () => {
      done = true;
      resolve(null);
    });
  });
  return { pid: proc.pid, proc, exited, hasExited: () => done };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

// SIGTERM, then SIGKILL when it has not exited within `graceMs`. Returns the exit code
// (null when it had to be killed).
export async function stopChild(child: Child, graceMs = 10_000): Promise<number | null> {
  if (child.hasExited()) return child.exited;
  try {
    process.kill(child.pid, "SIGTERM");
  } catch {
    return child.exited;
  }
  const code = await withTimeout(child.exited, graceMs);
  if (code !== "timeout") return code;
  try {
    process.kill(child.pid, "SIGKILL");
  } catch {
    // gone in between
  }
  await withTimeout(child.exited, 5_000);
  return null;
}

// Collects a child's output stream and resolves when a line matching `re` appears.
export function waitForLine(
  child: Child,
  stream: "stdout" | "stderr",
  re: RegExp,
  timeoutMs: number,
): Promise<RegExpMatchArray> {
  const source = child.proc[stream];
  if (!source) throw new Error(`${stream} of ${child.pid} is not piped`);
  return new Promise((resolve, reject) => {
    let seen = "";
    const onData = (chunk: Buffer) => {
      seen += chunk.toString("utf8");
      for (const line of seen.split("\n")) {
        const m = line.match(re);
        if (m) {
          cleanup();
          resolve(m);
          return;
        }
      }
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`process ${child.pid} exited before printing ${re}; it printed:\n${seen}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`process ${child.pid} did not print ${re} within ${timeoutMs} ms; it printed:\n${seen}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      source.off("data", onData);
      child.proc.off("exit", onExit);
    };
    source.on("data", onData);
    child.proc.once("exit", onExit);
  });
}

// Polls `check` every `intervalMs` until it returns a value other than undefined, or throws
// after `timeoutMs` with the last error it saw. For conditions with no event to wait on
// (a file gaining a line, an HTTP endpoint turning ready).
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
