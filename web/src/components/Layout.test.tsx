// The frame: main navigation, the live indicator, sign-out; and the not-found page inside it.
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AppRoutes } from "../App";
import { unnamedControls } from "../test/a11y";
import { fakeApi } from "../test/fakeApi";
import { renderTree } from "../test/render";

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("Layout", () => {
  it("has the main navigation, the live indicator and sign-out", async () => {
    vi.stubGlobal("fetch", fakeApi({ "GET /v1/tools": { data: [] } }).fetch);
    renderTree(<AppRoutes />, { route: "/tools" });
    const nav = screen.getByRole("navigation", { name: "Main" });
    expect(within(nav).getAllByRole("link").map((a) => a.textContent)).toEqual(["Runs", "New run", "Queue", "Tools"]);
    expect(within(nav).getByRole("link", { name: "Tools" })).toHaveClass("active");
    expect(screen.getByRole("status", { name: "Live updates" }).textContent).toMatch(/^(Live \(WebSocket\)|Live \(SSE\)|Polling|Reconnecting…)$/);
    expect(await screen.findByText("This server offers no tools.")).toBeInTheDocument();
    expect(unnamedControls()).toEqual([]);

    await userEvent.setup().click(screen.getByRole("button", { name: "Sign out" }));
    expect(screen.getByRole("heading", { level: 1, name: "Sign in to GROK" })).toBeInTheDocument();
    expect(localStorage.getItem("grok.apiKey")).toBeNull();
  });

  it("shows the not-found page for an unknown path, with a link to Runs", () => {
    vi.stubGlobal("fetch", fakeApi({}).fetch);
    renderTree(<AppRoutes />, { route: "/no/such/<page>" });
    expect(screen.getByRole("heading", { level: 1, name: "Page not found" })).toBeInTheDocument();
    const main = screen.getByRole("main");
    expect(within(main).getByRole("link", { name: "Runs" })).toHaveAttribute("href", "/runs");
    expect(main).toHaveTextContent("/no/such/");
  });
});
