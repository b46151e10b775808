// The sign-in page: paste an API key once; it is checked against the server (GET /v1/runs?limit=1)
// before it is stored, and every way that can fail gets a sentence saying what to do.
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useAuth } from "../api/auth";
import { ApiClient, ApiError } from "../api/client";

const checkTimeoutMs = 10_000;
const maxKeyLength = 512;

export interface SignInProblem {
  message: string;
  requestId: string | null;
}

// A sentence for a failed key check. "refused" and "Cannot reach" are the words people (and the
// end-to-end tests) look for.
export function describeSignInError(e: unknown, timedOut = false): SignInProblem {
  if (timedOut) {
    return {
      message: `Cannot reach the GROK server: no answer within ${checkTimeoutMs / 1000} s. Is \`grok serve\` running and not overloaded?`,
      requestId: null,
    };
  }
  if (e instanceof SyntaxError) {
    return {
      message:
        "Cannot reach the GROK server: something else answered at this address (the reply was not JSON). Check the address and any proxy in between.",
      requestId: null,
    };
  }
  if (!(e instanceof ApiError)) {
    return { message: "Cannot reach the GROK server: the key could not be checked.", requestId: null };
  }
  const requestId = typeof e.problem?.request_id === "string" ? e.problem.request_id : null;
  switch (e.kind) {
    case "unauthorized":
      return { message: "The server refused this API key: it is unknown, revoked or mistyped.", requestId };
    case "forbidden":
      return { message: "The server refused this API key for listing runs (it lacks the runs scope).", requestId };
    case "rate_limited":
      return { message: "Too many attempts: the server is rate limiting this key. Wait a few seconds and try again.", requestId };
    case "unreachable":
      return { message: e.message, requestId: null };
    default:
      break;
  }
  if (e.status >= 500 && !e.problem) {
    return {
      message: `Cannot reach the GROK server: the address answered ${e.status} without GROK's error details (a proxy that cannot reach \`grok serve\`?).`,
      requestId: null,
    };
  }
  if (e.kind === "not_found" && !e.problem) {
    return {
      message: "Cannot reach the GROK API at this address: /v1/runs does not exist here. Is this the address `grok serve` listens on?",
      requestId: null,
    };
  }
  return { message: `The server could not check the key: ${e.message}`, requestId };
}

export function SignInPage() {
  const { signIn, signOutReason } = useAuth();
  const [key, setKey] = useState("");
  const [problem, setProblem] = useState<SignInProblem | null>(null);
  const [checking, setChecking] = useState(false);
  const controller = useRef<AbortController | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const ids = useId();
  const hintId = `${ids}-hint`;
  const errorId = `${ids}-error`;

  useEffect(() => () => controller.current?.abort(), []);
  useEffect(() => {
    document.title = "Sign in · GROK";
  }, []);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (checking) return;
    const candidate = key.trim();
    if (!candidate) {
      setProblem({ message: "Paste an API key first.", requestId: null });
      inputRef.current?.focus();
      return;
    }
    if (candidate.length > maxKeyLength || /\s/.test(candidate)) {
      setProblem({ message: "That does not look like an API key: a key is one word without spaces.", requestId: null });
      inputRef.current?.focus();
      return;
    }
    const ac = new AbortController();
    controller.current = ac;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, checkTimeoutMs);
    setChecking(true);
    setProblem(null);
    try {
      const page = await new ApiClient({ key: candidate }).listRuns({ limit: 1 }, ac.signal);
      clearTimeout(timer);
      if (!page || !Array.isArray(page.data)) throw new SyntaxError("not a GROK runs page");
      if (ac.signal.aborted) return;
      signIn(candidate); // unmounts this page
    } catch (e) {
      clearTimeout(timer);
      if (ac.signal.aborted && !timedOut) return; // left the page
      setProblem(describeSignInError(e, timedOut));
      setChecking(false);
      inputRef.current?.focus();
    }
  }

  const shown = problem ?? (signOutReason ? { message: signOutReason, requestId: null } : null);
  return (
    <main className="signin">
      <h1>Sign in to GROK</h1>
      <div className="panel">
        <form onSubmit={onSubmit} noValidate className="form">
          {shown ? (
            <div role="alert" id={errorId} className="notice notice-error">
              <p>{shown.message}</p>
              {shown.requestId ? (
                <p>
                  <small className="muted">Request id: {shown.requestId}</small>
                </p>
              ) : null}
            </div>
          ) : null}
          <div className="field">
            <label htmlFor={`${ids}-key`}>API key</label>
            <input
              ref={inputRef}
              id={`${ids}-key`}
              type="password"
              name="api-key"
              autoComplete="off"
              autoCapitalize="off"
              spellCheck={false}
              maxLength={maxKeyLength * 2}
              value={key}
              onChange={(e) => setKey(e.target.value)}
              aria-invalid={problem ? true : undefined}
              aria-describedby={shown ? `${errorId} ${hintId}` : hintId}
              autoFocus
            />
            <p className="hint" id={hintId}>
              The key is kept in this browser until you sign out. Where to find one: the first time{" "}
              <code>grok serve</code> starts it prints an admin key; create more with <code>grok keys create</code>.
            </p>
          </div>
          <div className="form-actions">
            <button type="submit" className="button primary" disabled={checking} aria-busy={checking}>
              Sign in
            </button>
            {checking ? (
              <span role="status" className="muted">
                Checking the key…
              </span>
            ) : null}
          </div>
        </form>
      </div>
    </main>
  );
}
