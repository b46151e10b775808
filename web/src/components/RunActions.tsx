// What a person can do to a live run: cancel it (confirmed by a second click), and, while
// its plan waits for approval, approve or reject it (rejecting asks for a reason).
import { useMutation } from "@tanstack/react-query";
import { useId, useState } from "react";
import type { ApiClient } from "../api/client";
import type { Run, RunStatus } from "../api/types";
import { isTerminal } from "../api/types";
import { ErrorNotice } from "./ErrorNotice";

export interface RunActionsProps {
  client: ApiClient;
  runId: string;
  status: RunStatus;
  // Called with the run the server returned after an action.
  onChanged: (run: Run | null) => void;
}

export function RunActions({ client, runId, status, onChanged }: RunActionsProps) {
  const [confirming, setConfirming] = useState(false);
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const reasonId = useId();

  const cancel = useMutation({
    mutationFn: () => client.cancelRun(runId),
    onSuccess: (run) => {
      setConfirming(false);
      onChanged(run);
    },
  });
  const approve = useMutation({
    mutationFn: (body: { approve: boolean; reason?: string }) => client.approveRun(runId, body),
    onSuccess: (run) => {
      setRejecting(false);
      onChanged(run);
    },
  });

  if (isTerminal(status)) return null;
  const busy = cancel.isPending || approve.isPending;
  const error = cancel.error ?? approve.error;

  return (
    <div className="run-actions">
      {status === "awaiting_input" && !rejecting ? (
        <>
          <button type="button" className="button primary" disabled={busy} onClick={() => approve.mutate({ approve: true })}>
            Approve plan
          </button>
          <button type="button" className="button" disabled={busy} onClick={() => setRejecting(true)}>
            Reject plan
          </button>
        </>
      ) : null}
      {rejecting ? (
        <form
          className="reject-form"
          onSubmit={(e) => {
            e.preventDefault();
            approve.mutate({ approve: false, reason: reason.trim().slice(0, 1000) });
          }}
        >
          <label htmlFor={reasonId}>Reason for rejecting</label>
          <textarea id={reasonId} value={reason} maxLength={1000} onChange={(e) => setReason(e.target.value)} required />
          <div className="form-actions">
            <button type="submit" className="button danger" disabled={busy || !reason.trim()}>
              Confirm rejection
            </button>
            <button type="button" className="button" onClick={() => setRejecting(false)}>
              Back
            </button>
          </div>
        </form>
      ) : null}
      {confirming ? (
        <span className="confirm-cancel" role="group" aria-label="Cancel this run?">
          <span>Cancel this run? Running steps stop.</span>
          <button type="button" className="button danger" disabled={busy} onClick={() => cancel.mutate()}>
            Confirm cancellation
          </button>
          <button type="button" className="button" disabled={busy} onClick={() => setConfirming(false)}>
            Keep running
          </button>
        </span>
      ) : (
        <button type="button" className="button danger" disabled={busy} onClick={() => setConfirming(true)}>
          Cancel run
        </button>
      )}
      {error ? <ErrorNotice error={error} title="The action failed" /> : null}
    </div>
  );
}
