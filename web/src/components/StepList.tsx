// One entry per step (planner, evidence steps, solver): a summary line with its state,
// tool, attempts, duration and tokens, expandable to the arguments, the tool input as
// called, the output (long output collapsed) and the error. Everything is plain text.
import { useState } from "react";
import type { StepView } from "../live/runState";
import { formatDuration, formatTokensInOut } from "../format";
import { StatusBadge } from "./StatusBadge";

export const outputPreviewChars = 2000;

function json(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

function LongText({ text, label }: { text: string; label: string }) {
  const [all, setAll] = useState(false);
  const long = text.length > outputPreviewChars;
  return (
    <>
      <pre className="step-output">{long && !all ? `${text.slice(0, outputPreviewChars)}…` : text}</pre>
      {long ? (
        <button type="button" className="button small" onClick={() => setAll((v) => !v)}>
          {all ? "Show less" : "Show all"}
          <span className="visually-hidden"> of {label}</span>
          {all ? "" : ` (${text.length.toLocaleString("en-US")} characters)`}
        </button>
      ) : null}
    </>
  );
}

function StepEntry({ step }: { step: StepView }) {
  const args = json(step.args);
  const input = json(step.input);
  const title = step.kind === "worker" ? step.key : step.name;
  return (
    <li className={`step step-${step.state}`}>
      {/* Evidence steps (and failed ones) start open; planner and solver hold long text. */}
      <details open={step.kind === "worker" || step.state === "failed"}>
        <summary>
          <strong className="step-name">{title}</strong>
          {step.tool ? <code className="step-tool">{step.tool}</code> : null}
          <StatusBadge status={step.state} />
          <span className="step-meta">
            {step.attempts > 0 ? `${step.attempts} ${step.attempts === 1 ? "attempt" : "attempts"}` : "not started"}
            {" · "}
            {formatDuration(step.durationMs)}
            {" · "}
            {formatTokensInOut(step.tokensIn, step.tokensOut)} tokens
          </span>
        </summary>
        <dl className="step-details">
          <dt>Step</dt>
          <dd>
            <code>{step.name}</code>
            {step.stepId ? <span className="muted"> ({step.stepId})</span> : null}
          </dd>
          {step.tool ? (
            <>
              <dt>Tool</dt>
              <dd>
                <code>{step.tool}</code>
              </dd>
            </>
          ) : null}
          {args && step.kind === "worker" ? (
            <>
              <dt>Arguments</dt>
              <dd>
                <pre>{args}</pre>
              </dd>
            </>
          ) : null}
          {input && input !== args ? (
            <>
              <dt>Called with</dt>
              <dd>
                <pre>{input}</pre>
              </dd>
            </>
          ) : null}
          {step.output ? (
            <>
              <dt>Output</dt>
              <dd>
                <LongText text={step.output} label={`the output of ${title}`} />
              </dd>
            </>
          ) : null}
          {step.error ? (
            <>
              <dt>Error</dt>
              <dd className="step-error">
                <pre>{step.error}</pre>
                {step.state === "retrying" && step.retryInMs !== null ? (
                  <span className="muted">Retrying in {formatDuration(step.retryInMs)}.</span>
                ) : null}
              </dd>
            </>
          ) : null}
          <dt>Attempts</dt>
          <dd>{step.attempts}</dd>
          <dt>Duration</dt>
          <dd>{formatDuration(step.durationMs)}</dd>
          <dt>Tokens</dt>
          <dd>{formatTokensInOut(step.tokensIn, step.tokensOut)}</dd>
          {step.promptVersion ? (
            <>
              <dt>Prompt version</dt>
              <dd>
                <code>{step.promptVersion}</code>
              </dd>
            </>
          ) : null}
        </dl>
      </details>
    </li>
  );
}

export interface StepListProps {
  steps: readonly StepView[];
}

export function StepList({ steps }: StepListProps) {
  return (
    <section aria-label="Steps" className="panel run-steps">
      <h2>Steps</h2>
      {steps.length === 0 ? (
        <p className="muted">No steps yet.</p>
      ) : (
        <ol className="step-list">
          {steps.map((s) => (
            <StepEntry key={s.key} step={s} />
          ))}
        </ol>
      )}
    </section>
  );
}
