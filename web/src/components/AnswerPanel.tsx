// The answer, as the solver streams it and then as stored: plain text with its line
// breaks kept (CSS pre-wrap), never interpreted as HTML or Markdown.
import type { RunStatus } from "../api/types";

export interface AnswerPanelProps {
  answer: string;
  final: boolean;
  status: RunStatus;
}

export function AnswerPanel({ answer, final, status }: AnswerPanelProps) {
  const streaming = !final && (status === "running" || status === "queued") && answer.length > 0;
  let empty = "No answer yet.";
  if (status === "failed") empty = "No answer: the run failed.";
  if (status === "cancelled") empty = "No answer: the run was cancelled.";
  if (status === "awaiting_input") empty = "No answer yet: the plan waits for approval.";
  return (
    <section aria-label="Answer" className="panel run-answer" aria-busy={streaming}>
      <h2>
        Answer{streaming ? <span className="muted answer-streaming"> (writing…)</span> : null}
      </h2>
      {answer ? <div className="answer-text">{answer}</div> : <p className="muted">{empty}</p>}
    </section>
  );
}
