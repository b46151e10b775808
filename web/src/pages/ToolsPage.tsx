// The tools page: each tool the server offers, with its description, a table of its arguments
// read from the JSON Schema, and the raw schema.
import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { useClient } from "../api/auth";
import type { Tool } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";

export interface SchemaArgument {
  name: string;
  type: string;
  required: boolean;
  description: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

// A short type for one property schema: "string", "integer ≥ 1", "array of string", "a | b".
export function schemaType(schema: unknown): string {
  if (!isRecord(schema)) return "any";
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  if ("const" in schema) return `= ${JSON.stringify(schema.const)}`;
  for (const k of ["oneOf", "anyOf"] as const) {
    const alts = schema[k];
    if (Array.isArray(alts)) return alts.map(schemaType).join(" | ");
  }
  let t = schema.type;
  if (Array.isArray(t)) t = t.filter((x) => typeof x === "string").join(" | ");
  if (typeof t !== "string" || !t) return "any";
  if (t === "array" && isRecord(schema.items)) return `array of ${schemaType(schema.items)}`;
  const bounds: string[] = [];
  if (typeof schema.minimum === "number") bounds.push(`≥ ${schema.minimum}`);
  if (typeof schema.maximum === "number") bounds.push(`≤ ${schema.maximum}`);
  if (typeof schema.maxLength === "number") bounds.push(`max ${schema.maxLength} chars`);
  return bounds.length ? `${t} (${bounds.join(", ")})` : t;
}

// The top-level properties of an object schema, in the schema's order.
export function schemaArguments(parameters: unknown): SchemaArgument[] {
  if (!isRecord(parameters) || !isRecord(parameters.properties)) return [];
  const required = new Set(Array.isArray(parameters.required) ? parameters.required.filter((r): r is string => typeof r === "string") : []);
  return Object.entries(parameters.properties).map(([name, prop]) => ({
    name,
    type: schemaType(prop),
    required: required.has(name),
    description: isRecord(prop) && typeof prop.description === "string" ? prop.description : "",
  }));
}

function ToolCard({ tool }: { tool: Tool }) {
  const args = schemaArguments(tool.parameters);
  const headingId = `tool-${tool.name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  return (
    <article className="panel tool" aria-labelledby={headingId}>
      <h2 id={headingId}>
        <code>{tool.name}</code>
      </h2>
      <p>{tool.description || <span className="muted">No description.</span>}</p>
      {args.length === 0 ? (
        <p className="muted">Takes no arguments.</p>
      ) : (
        <div className="table-scroll">
          <table className="data" aria-label={`Arguments of ${tool.name}`}>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Required</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {args.map((a) => (
                <tr key={a.name}>
                  <td>
                    <code>{a.name}</code>
                  </td>
                  <td>{a.type}</td>
                  <td>{a.required ? "yes" : "no"}</td>
                  <td>{a.description || <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <details>
        <summary>JSON Schema</summary>
        <pre>{JSON.stringify(tool.parameters, null, 2)}</pre>
      </details>
    </article>
  );
}

export function ToolsPage() {
  const client = useClient();
  useEffect(() => {
    document.title = "Tools · GROK";
  }, []);
  const tools = useQuery({
    queryKey: ["tools"],
    queryFn: ({ signal }) => client.listTools(signal),
    staleTime: 60_000,
  });
  const list = tools.data?.data ?? [];
  return (
    <>
      <h1>Tools</h1>
      {tools.isPending ? <p className="muted">Loading tools…</p> : null}
      {tools.isError ? <ErrorNotice error={tools.error} title="Could not load the tools" onRetry={() => void tools.refetch()} /> : null}
      {tools.isSuccess && list.length === 0 ? <p className="muted">This server offers no tools.</p> : null}
      {list.map((t) => (
        <ToolCard key={t.name} tool={t} />
      ))}
    </>
  );
}
