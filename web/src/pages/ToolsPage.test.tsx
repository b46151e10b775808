// The tools page: an article per tool with its argument table (from the JSON Schema) and the raw schema.
import { screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeApi, problemResponse, sampleTools } from "../test/fakeApi";
import { renderPage } from "../test/render";
import { schemaArguments, schemaType, ToolsPage } from "./ToolsPage";

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("ToolsPage", () => {
  it("shows each tool with its arguments and raw schema", async () => {
    const tools = [
      ...sampleTools,
      {
        name: "doc_search",
        description: "Searches ingested documents.",
        parameters: {
          type: "object",
          properties: {
            query: { type: "string", description: "What to look for." },
            k: { type: "integer", minimum: 1, maximum: 20 },
            mode: { enum: ["bm25", "vector"] },
          },
          required: ["query"],
        },
      },
    ];
    vi.stubGlobal("fetch", fakeApi({ "GET /v1/tools": { data: tools } }).fetch);
    renderPage(<ToolsPage />);
    expect(screen.getByRole("heading", { level: 1, name: "Tools" })).toBeInTheDocument();
    const articles = await screen.findAllByRole("article");
    expect(articles).toHaveLength(3);
    expect(within(articles[0]!).getByRole("heading", { level: 2 })).toHaveTextContent("calculator");
    expect(articles[0]).toHaveTextContent("Evaluates an arithmetic expression");

    const table = within(articles[2]!).getByRole("table");
    const rows = within(table).getAllByRole("row").map((r) => Array.from(r.children, (c) => c.textContent));
    expect(rows).toEqual([
      ["Name", "Type", "Required", "Description"],
      ["query", "string", "yes", "What to look for."],
      ["k", "integer (≥ 1, ≤ 20)", "no", "—"],
      ["mode", 'one of "bm25", "vector"', "no", "—"],
    ]);
    const details = articles[1]!.querySelector("details");
    expect(details?.querySelector("summary")).toHaveTextContent("JSON Schema");
    expect(JSON.parse(details?.querySelector("pre")?.textContent ?? "")).toEqual(sampleTools[1]!.parameters);
  });

  it("shows an error as an alert", async () => {
    vi.stubGlobal("fetch", fakeApi({ "GET /v1/tools": () => problemResponse(500, "Internal Server Error", "registry broke") }).fetch);
    renderPage(<ToolsPage />);
    expect(await screen.findByRole("alert")).toHaveTextContent("registry broke");
  });
});

describe("schema helpers", () => {
  it("reads odd schemas without failing", () => {
    expect(schemaArguments(null)).toEqual([]);
    expect(schemaArguments({ type: "object" })).toEqual([]);
    expect(schemaArguments({ properties: { a: 5 }, required: "a" })).toEqual([{ name: "a", type: "any", required: false, description: "" }]);
    expect(schemaType({ type: ["string", "null"] })).toBe("string | null");
    expect(schemaType({ type: "array", items: { type: "string" } })).toBe("array of string");
    expect(schemaType({ anyOf: [{ type: "integer" }, { type: "string" }] })).toBe("integer | string");
  });
});
