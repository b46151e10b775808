// Why a run ended without an answer, in plain words: a sentence and what to do for each
// error code the engine uses, and always the server's own message.
import type { RunError } from "../api/types";

interface Explanation {
  what: string;
  todo: string | null;
}

const explanations: Record<string, Explanation> = {
  model_unreachable: {
    what: "The model server could not be reached.",
    todo: "Start the model server (for Ollama: `ollama serve`) or point GROK_LLM_BASE_URL at one that runs, then start the run again.",
  },
  model_error: {
    what: "A call to the model failed.",
    todo: "Check that the model name exists on the model server and read its log; then start the run again.",
  },
  model_config: {
    what: "The model is not configured correctly.",
    todo: "Check the planner and solver model settings of the server (and of this run).",
  },
  token_budget: {
    what: "The run used more tokens than its token budget allows.",
    todo: "Raise the token budget, or give a smaller task.",
  },
  deadline: {
    what: "The run took longer than its deadline.",
    todo: "Raise the deadline (seconds), or give a smaller task.",
  },
  max_steps: {
    what: "The plan needed more steps than the run allows.",
    todo: "Raise max steps, or split the task.",
  },
  plan_invalid: {
    what: "The planner did not produce a valid plan, even after one repair.",
    todo: "Rephrase the task, allow more tools or steps, or use a stronger planner model.",
  },
  step_failed: {
    what: "A step's tool failed, and no replan was left to work around it.",
    todo: "Read the failed step's error below; fix its cause or allow replans, then start the run again.",
  },
  tool_failed: {
    what: "A tool failed.",
    todo: "Read the failed step's error below.",
  },
  cancelled: { what: "The run was cancelled.", todo: null },
  plan_rejected: { what: "The plan was rejected, so no step ran.", todo: "Start a new run with a changed task if needed." },
  internal: {
    what: "The server hit an internal error.",
    todo: "Look in the server log for this run id, and report it if it repeats.",
  },
};

export function explainFailure(error: RunError | null): Explanation {
  const code = error?.code ?? "";
  const known = explanations[code];
  if (known) return known;
  const msg = (error?.message ?? "").toLowerCase();
  if (msg.includes("max_steps") || msg.includes("max steps")) return explanations.max_steps as Explanation;
  return { what: "The run failed.", todo: null };
}

export interface FailureNoticeProps {
  error: RunError | null;
  status: "failed" | "cancelled";
}

export function FailureNotice({ error, status }: FailureNoticeProps) {
  const { what, todo } = explainFailure(error);
  if (status === "cancelled") {
    return (
      <section aria-label="Cancelled" className="notice notice-info run-failure">
        <h2>Run cancelled</h2>
        <p>{error?.code === "plan_rejected" ? what : "The run was cancelled before it finished."}</p>
        {error?.message ? <p className="failure-message">Reason: {error.message}</p> : null}
      </section>
    );
  }
  return (
    <div role="alert" className="notice notice-error run-failure">
      <h2>Run failed</h2>
      <p>{what}</p>
      {error?.message ? <p className="failure-message">{error.message}</p> : null}
      {todo ? <p className="failure-todo">What to do: {todo}</p> : null}
      {error?.code ? <p className="muted"><small>Error code: {error.code}</small></p> : null}
    </div>
  );
}
