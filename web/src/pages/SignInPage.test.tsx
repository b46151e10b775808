// Sign-in: the key is checked with GET /v1/runs?limit=1 before it is stored; each failure has
// its sentence ("refused", "Cannot reach", rate limited) and a sign-out reason is shown.
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useEffect } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AppRoutes } from "../App";
import { useAuth } from "../api/auth";
import { unnamedControls } from "../test/a11y";
import { fakeApi, jsonResponse, makeRun, networkError, problemResponse, textResponse, type Handler } from "../test/fakeApi";
import { renderTree } from "../test/render";

const key = "grok_k1_9f8e7d6c5b4a39281706";

function setup(runs: Handler) {
  const api = fakeApi({ "GET /v1/runs": runs, "GET /v1/tools": { data: [] } });
  vi.stubGlobal("fetch", api.fetch);
  const view = renderTree(<AppRoutes />, { apiKey: null, route: "/runs" });
  return { api, view };
}

async function signInWith(k: string) {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText("API key"), k);
  await user.click(screen.getByRole("button", { name: "Sign in" }));
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("SignInPage", () => {
  it("asks for the key with a password field and a hint where to find one", () => {
    setup(() => ({ data: [], next_cursor: null }));
    expect(screen.getByRole("heading", { level: 1, name: "Sign in to GROK" })).toBeInTheDocument();
    expect(screen.getByLabelText("API key")).toHaveAttribute("type", "password");
    expect(screen.getByText(/grok keys create/)).toBeInTheDocument();
    expect(screen.getAllByText(/grok serve/).length).toBeGreaterThan(0);
    expect(unnamedControls()).toEqual([]);
  });

  it("checks the key with GET /v1/runs?limit=1 and then signs in", async () => {
    const { api } = setup(() => ({ data: [makeRun()], next_cursor: null }));
    await signInWith(key);
    expect(await screen.findByRole("heading", { level: 1, name: "Runs" })).toBeInTheDocument();
    const check = api.requests[0];
    expect(check?.url.pathname).toBe("/v1/runs");
    expect(check?.url.searchParams.get("limit")).toBe("1");
    expect(check?.headers.authorization).toBe(`Bearer ${key}`);
    expect(localStorage.getItem("grok.apiKey")).toBe(key);
    expect(screen.getByRole("navigation", { name: "Main" })).toBeInTheDocument();
  });

  it("says a wrong or revoked key was refused, and does not store it", async () => {
    setup(() => problemResponse(401, "Unauthorized", "unknown or revoked API key"));
    await signInWith("grok_wrong");
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("refused");
    expect(localStorage.getItem("grok.apiKey")).toBeNull();
    expect(screen.getByRole("heading", { name: "Sign in to GROK" })).toBeInTheDocument();
    expect(screen.getByLabelText("API key")).toHaveAttribute("aria-invalid", "true");
    expect(document.body.textContent).not.toContain("grok_wrong"); // the key never lands in the page text
    expect(screen.getByRole("button", { name: "Sign in" })).toBeEnabled();
  });

  it("says the server cannot be reached when the network fails", async () => {
    setup(() => networkError());
    await signInWith(key);
    expect(await screen.findByRole("alert")).toHaveTextContent("Cannot reach");
    expect(localStorage.getItem("grok.apiKey")).toBeNull();
  });

  it.each([
    ["a proxy's HTML error page (502)", () => textResponse("<html><body>Bad Gateway</body></html>", 502)],
    ["an HTML page answered with 200", () => textResponse("<!doctype html><title>Welcome to nginx</title>", 200)],
    ["JSON that is not a runs page", () => jsonResponse({ hello: "world" })],
    ["a 404 without problem details", () => textResponse("Not Found", 404, "text/plain")],
  ])("says the server cannot be reached for %s", async (_name, handler) => {
    setup(handler);
    await signInWith(key);
    expect(await screen.findByRole("alert")).toHaveTextContent("Cannot reach");
    expect(localStorage.getItem("grok.apiKey")).toBeNull();
  });

  it("says when the server rate limits", async () => {
    setup(() => problemResponse(429, "Too Many Requests", "rate limit exceeded", "req_rl1"));
    await signInWith(key);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent(/rate limiting/);
    expect(alert).toHaveTextContent("Request id: req_rl1");
  });

  it("shows a server problem with its detail", async () => {
    setup(() => problemResponse(503, "Service Unavailable", "database is locked", "req_503"));
    await signInWith(key);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("database is locked");
    expect(alert).not.toHaveTextContent("Cannot reach");
  });

  it("asks for a key when the field is empty, without calling the server", async () => {
    const { api } = setup(() => ({ data: [], next_cursor: null }));
    await userEvent.setup().click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Paste an API key first.");
    expect(api.requests).toHaveLength(0);
  });

  it("trims whitespace around a pasted key", async () => {
    const { api } = setup(() => ({ data: [], next_cursor: null }));
    await signInWith(`  ${key}  `);
    await screen.findByRole("heading", { level: 1, name: "Runs" });
    expect(api.requests[0]?.headers.authorization).toBe(`Bearer ${key}`);
  });

  it("shows the reason the app signed out", async () => {
    const api = fakeApi({ "GET /v1/runs": { data: [], next_cursor: null }, "GET /v1/tools": { data: [] } });
    vi.stubGlobal("fetch", api.fetch);
    function RevokeOnce() {
      const { client, signOut } = useAuth();
      useEffect(() => {
        if (client) signOut("The server refused this API key: it is unknown, revoked or malformed.");
      }, [client, signOut]);
      return null;
    }
    renderTree(
      <>
        <RevokeOnce />
        <AppRoutes />
      </>,
      { route: "/runs" },
    );
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("revoked");
    await waitFor(() => expect(localStorage.getItem("grok.apiKey")).toBeNull());
  });
});
