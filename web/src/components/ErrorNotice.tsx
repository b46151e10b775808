// Shows a failed request as a plain sentence in role="alert", with the server's request id in
// small text (for the logs) when the problem details carry one. Never renders HTML from the error.
import { ApiError } from "../api/client";

// A sentence for any error a page may meet.
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof SyntaxError) {
    return "The server's reply was not JSON. Is something other than GROK (a proxy or another server) answering at this address?";
  }
  if (error instanceof Error && error.message) return error.message;
  if (typeof error === "string" && error) return error;
  return "Something went wrong.";
}

export function requestIdOf(error: unknown): string | null {
  if (!(error instanceof ApiError) || !error.problem) return null;
  const id = error.problem.request_id;
  return typeof id === "string" && id ? id : null;
}

export interface ErrorNoticeProps {
  error: unknown;
  // A short heading above the sentence, e.g. "Could not load runs".
  title?: string;
  onRetry?: () => void;
  className?: string;
}

export function ErrorNotice({ error, title, onRetry, className }: ErrorNoticeProps) {
  const requestId = requestIdOf(error);
  return (
    <div role="alert" className={`notice notice-error${className ? ` ${className}` : ""}`}>
      {title ? <strong className="notice-title">{title}</strong> : null}
      <p>{errorMessage(error)}</p>
      {requestId ? (
        <p>
          <small className="muted">Request id: {requestId}</small>
        </p>
      ) : null}
      {onRetry ? (
        <button type="button" className="button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}
