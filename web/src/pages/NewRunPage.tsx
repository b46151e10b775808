// The new-run form: the task and the main options (models, tools, limits, approval). Only the
// options the user filled are sent; numbers are checked here first; one Idempotency-Key per
// distinct request, so a double click or a retry after a network error makes one run.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { useNavigate } from "react-router";
import { useClient } from "../api/auth";
import type { RunOptions } from "../api/types";
import { ErrorNotice, errorMessage } from "../components/ErrorNotice";
import { runsQueryKey } from "../live";

const maxInputBytes = 64 * 1024; // the server's limit on a task
const maxModelChars = 200;

type NumberField = "maxSteps" | "tokenBudget" | "deadline";
type FieldName = "task" | "plannerModel" | "solverModel" | NumberField;
type Errors = Partial<Record<FieldName, string>>;

// The numeric options: their label (also used in messages) and the server's upper bound.
const numberFields: { name: NumberField; label: string; option: "max_steps" | "token_budget" | "deadline_s"; max: number; hint: string }[] = [
  { name: "maxSteps", label: "Max steps", option: "max_steps", max: 64, hint: "Tool calls the plan may make (1–64)." },
  { name: "tokenBudget", label: "Token budget", option: "token_budget", max: 1_000_000_000, hint: "Tokens the run may spend in all." },
  { name: "deadline", label: "Deadline (seconds)", option: "deadline_s", max: 604_800, hint: "The run fails after this long (up to 7 days)." },
];

export function newIdempotencyKey(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === "function") c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// A positive whole number within `max`, or a sentence saying what is wrong; "" is "not set".
export function checkPositiveInteger(text: string, label: string, max: number): { value?: number; error?: string } {
  const t = text.trim();
  if (!t) return {};
  if (!/^\d+$/.test(t)) return { error: `${label} must be a whole number greater than 0.` };
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n < 1) return { error: `${label} must be a whole number greater than 0.` };
  if (n > max) return { error: `${label} must be at most ${max.toLocaleString("en-US")}.` };
  return { value: n };
}

interface FormState {
  task: string;
  plannerModel: string;
  solverModel: string;
  tools: string[];
  maxSteps: string;
  tokenBudget: string;
  deadline: string;
  requireApproval: boolean;
}

const empty: FormState = {
  task: "",
  plannerModel: "",
  solverModel: "",
  tools: [],
  maxSteps: "",
  tokenBudget: "",
  deadline: "",
  requireApproval: false,
};

// Checks the form; returns the request to send, or the messages per field.
export function buildRequest(form: FormState): { input: string; options: RunOptions } | { errors: Errors } {
  const errors: Errors = {};
  const input = form.task.trim();
  if (!input) errors.task = "Enter a task for the run.";
  else if (new TextEncoder().encode(input).length > maxInputBytes) errors.task = "The task is too long: at most 64 KiB.";
  const options: RunOptions = {};
  const planner = form.plannerModel.trim();
  const solver = form.solverModel.trim();
  if (planner.length > maxModelChars) errors.plannerModel = `Planner model must be at most ${maxModelChars} characters.`;
  else if (planner) options.planner_model = planner;
  if (solver.length > maxModelChars) errors.solverModel = `Solver model must be at most ${maxModelChars} characters.`;
  else if (solver) options.solver_model = solver;
  if (form.tools.length > 0) options.tools = [...form.tools];
  for (const f of numberFields) {
    const r = checkPositiveInteger(form[f.name], f.label, f.max);
    if (r.error) errors[f.name] = r.error;
    else if (r.value !== undefined) options[f.option] = r.value;
  }
  if (form.requireApproval) options.require_approval = true;
  if (Object.keys(errors).length > 0) return { errors };
  return { input, options };
}

export function NewRunPage() {
  const client = useClient();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const ids = useId();
  const [form, setForm] = useState<FormState>(empty);
  const [errors, setErrors] = useState<Errors>({});
  const formRef = useRef<HTMLFormElement>(null);
  const inFlight = useRef(false);
  const lastAttempt = useRef<{ body: string; key: string } | null>(null);

  useEffect(() => {
    document.title = "New run · GROK";
  }, []);

  const tools = useQuery({
    queryKey: ["tools"],
    queryFn: ({ signal }) => client.listTools(signal),
    staleTime: 60_000,
  });

  const create = useMutation({
    mutationFn: (req: { input: string; options: RunOptions; key: string }) => client.createRun(req.input, req.options, req.key),
    onSuccess: (run) => {
      void queryClient.invalidateQueries({ queryKey: runsQueryKey });
      navigate(`/runs/${encodeURIComponent(run.id)}`);
    },
    onSettled: () => {
      inFlight.current = false;
    },
  });

  const set = <K extends keyof FormState>(name: K, value: FormState[K]) => {
    setForm((f) => ({ ...f, [name]: value }));
    if (name in errors) setErrors((e) => ({ ...e, [name]: undefined }));
  };

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (inFlight.current) return;
    const req = buildRequest(form);
    if ("errors" in req) {
      setErrors(req.errors);
      const first = (["task", "plannerModel", "solverModel", "maxSteps", "tokenBudget", "deadline"] as const).find((n) => req.errors[n]);
      if (first) document.getElementById(`${ids}-${first}`)?.focus();
      return;
    }
    setErrors({});
    // The same request reuses its key (a retry after a lost answer returns the same run); a
    // changed request gets a new one (the server answers 409 to a key reused with another body).
    const body = JSON.stringify(req);
    if (!lastAttempt.current || lastAttempt.current.body !== body) lastAttempt.current = { body, key: newIdempotencyKey() };
    inFlight.current = true;
    create.mutate({ ...req, key: lastAttempt.current.key });
  }

  function onTaskKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && (event.metaKey || event.ctrlKey)) {
      event.preventDefault();
      formRef.current?.requestSubmit();
    }
  }

  const describedBy = (name: FieldName, hint?: boolean) =>
    [hint ? `${ids}-${name}-hint` : "", errors[name] ? `${ids}-${name}-error` : ""].filter(Boolean).join(" ") || undefined;
  const fieldError = (name: FieldName) =>
    errors[name] ? (
      <p className="field-error" id={`${ids}-${name}-error`}>
        {errors[name]}
      </p>
    ) : null;
  const toolList = tools.data?.data ?? [];

  return (
    <>
      <h1>New run</h1>
      {create.isError ? <ErrorNotice error={create.error} title="The run was not started" /> : null}
      <form ref={formRef} className="form" onSubmit={onSubmit} noValidate>
        <div className="field">
          <label htmlFor={`${ids}-task`}>Task</label>
          <textarea
            id={`${ids}-task`}
            name="task"
            rows={6}
            value={form.task}
            onChange={(e) => set("task", e.target.value)}
            onKeyDown={onTaskKeyDown}
            aria-invalid={errors.task ? true : undefined}
            aria-describedby={describedBy("task", true)}
            placeholder="What should the agent do?"
            autoFocus
          />
          <p className="hint" id={`${ids}-task-hint`}>
            Plain text. Ctrl+Enter (⌘+Enter on a Mac) starts the run.
          </p>
          {fieldError("task")}
        </div>

        <div className="field-row">
          {(["plannerModel", "solverModel"] as const).map((name) => (
            <div className="field" key={name}>
              <label htmlFor={`${ids}-${name}`}>{name === "plannerModel" ? "Planner model" : "Solver model"}</label>
              <input
                id={`${ids}-${name}`}
                type="text"
                name={name}
                value={form[name]}
                onChange={(e) => set(name, e.target.value)}
                placeholder="server default"
                autoComplete="off"
                spellCheck={false}
                aria-invalid={errors[name] ? true : undefined}
                aria-describedby={describedBy(name)}
              />
              {fieldError(name)}
            </div>
          ))}
        </div>

        <fieldset aria-describedby={toolList.length > 0 ? `${ids}-tools-hint` : undefined}>
          <legend>Tools</legend>
          {tools.isPending ? <p className="muted">Loading tools…</p> : null}
          {tools.isError ? <p className="muted">Could not load the tools ({errorMessage(tools.error)}); the run may use all tools.</p> : null}
          {tools.isSuccess && toolList.length === 0 ? <p className="muted">This server offers no tools.</p> : null}
          {toolList.length > 0 ? (
            <>
              <p className="hint" id={`${ids}-tools-hint`}>
                None checked: the run may use every tool.
              </p>
              <div className="checks">
                {toolList.map((t) => (
                  <label className="check" key={t.name} title={t.description}>
                    <input
                      type="checkbox"
                      name="tools"
                      value={t.name}
                      checked={form.tools.includes(t.name)}
                      onChange={(e) =>
                        set("tools", e.target.checked ? [...form.tools, t.name] : form.tools.filter((n) => n !== t.name))
                      }
                    />
                    {t.name}
                  </label>
                ))}
              </div>
            </>
          ) : null}
        </fieldset>

        <div className="field-row">
          {numberFields.map((f) => (
            <div className="field" key={f.name}>
              <label htmlFor={`${ids}-${f.name}`}>{f.label}</label>
              <input
                id={`${ids}-${f.name}`}
                type="text"
                inputMode="numeric"
                name={f.name}
                value={form[f.name]}
                onChange={(e) => set(f.name, e.target.value)}
                placeholder="server default"
                autoComplete="off"
                aria-invalid={errors[f.name] ? true : undefined}
                aria-describedby={describedBy(f.name, true)}
              />
              <p className="hint" id={`${ids}-${f.name}-hint`}>
                {f.hint}
              </p>
              {fieldError(f.name)}
            </div>
          ))}
        </div>

        <label className="check">
          <input type="checkbox" name="require_approval" checked={form.requireApproval} onChange={(e) => set("requireApproval", e.target.checked)} />
          Require approval
        </label>

        <div className="form-actions">
          <button type="submit" className="button primary" disabled={create.isPending} aria-busy={create.isPending}>
            Start run
          </button>
          {create.isPending ? (
            <span role="status" className="muted">
              Starting the run…
            </span>
          ) : null}
        </div>
      </form>
    </>
  );
}
