// Renders a page the way the app does (signed in, react-query, a router) for component tests.
// The API key is preset in localStorage; stub the network with `vi.stubGlobal("fetch", api.fetch)`
// (see fakeApi.ts) — ApiClient reads globalThis.fetch on every request.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, type RenderResult } from "@testing-library/react";
import type { ReactElement, ReactNode } from "react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router";
import { AuthProvider } from "../api/auth";

export const testKey = "grok_test_key_0123456789";

export interface RenderOptions {
  // The URL the router starts at, e.g. "/runs?status=failed".
  route?: string;
  // The route pattern the element is mounted at, e.g. "/runs/:id" (default: any path).
  path?: string;
  // The stored API key; null renders signed out.
  apiKey?: string | null;
  queryClient?: QueryClient;
  // localStorage "grok.transport" (the live layer's override); default "poll" so tests open no
  // WebSocket. null leaves it unset.
  transport?: "websocket" | "sse" | "poll" | null;
}

export interface PageRender extends RenderResult {
  // The router's current location as "pathname?search".
  location: () => string;
  queryClient: QueryClient;
}

export function testQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: false, refetchOnWindowFocus: false, gcTime: Infinity },
      mutations: { retry: false },
    },
  });
}

function LocationProbe({ into }: { into: { current: string } }) {
  const loc = useLocation();
  into.current = `${loc.pathname}${loc.search}`;
  return null;
}

// Providers only (no routes): for rendering a whole route tree such as <AppRoutes/>.
export function Providers({ children, queryClient, route = "/" }: { children: ReactNode; queryClient: QueryClient; route?: string }) {
  return (
    <AuthProvider>
      <QueryClientProvider client={queryClient}>
        <MemoryRouter initialEntries={[route]}>{children}</MemoryRouter>
      </QueryClientProvider>
    </AuthProvider>
  );
}

export function presetKey(apiKey: string | null = testKey, transport: RenderOptions["transport"] = "poll"): void {
  if (apiKey === null) localStorage.removeItem("grok.apiKey");
  else localStorage.setItem("grok.apiKey", apiKey);
  if (transport === null) localStorage.removeItem("grok.transport");
  else localStorage.setItem("grok.transport", transport);
}

// Renders a tree that brings its own <Routes> (e.g. <AppRoutes/>) inside the providers.
export function renderTree(tree: ReactElement, options: RenderOptions = {}): PageRender {
  const { route = "/", apiKey = testKey, transport = "poll" } = options;
  presetKey(apiKey, transport);
  const queryClient = options.queryClient ?? testQueryClient();
  const where = { current: route };
  const result = render(
    <Providers queryClient={queryClient} route={route}>
      <LocationProbe into={where} />
      {tree}
    </Providers>,
  );
  return { ...result, location: () => where.current, queryClient };
}

// Renders `ui` at `path` (other paths render nothing, so a navigation away empties the page;
// read where it went with `location()`).
export function renderPage(ui: ReactElement, options: RenderOptions = {}): PageRender {
  const path = options.path ?? "*";
  return renderTree(
    <Routes>
      <Route path={path} element={ui} />
      {path !== "*" ? <Route path="*" element={null} /> : null}
    </Routes>,
    options,
  );
}
