// Routes and the page frame. Signed out, every path shows the sign-in page; signed in, the
// main navigation and the page for the path.
import { QueryClient, QueryClientProvider, QueryCache, MutationCache } from "@tanstack/react-query";
import { lazy, Suspense, useMemo, type ReactNode } from "react";
import { BrowserRouter, Navigate, Route, Routes } from "react-router";
import { AuthProvider, useAuth } from "./api/auth";
import { ApiError } from "./api/client";
import { Layout } from "./components/Layout";
import { SignInPage } from "./pages/SignInPage";
import { RunsPage } from "./pages/RunsPage";
import { NewRunPage } from "./pages/NewRunPage";
import { QueuePage } from "./pages/QueuePage";
import { ToolsPage } from "./pages/ToolsPage";
import { NotFoundPage } from "./pages/NotFoundPage";

// The run page carries the plan graph (React Flow + dagre), about half of the UI's code: it
// loads on first use, so the sign-in, list, queue and tools pages start with less.
const RunPage = lazy(() => import("./pages/RunPage").then((m) => ({ default: m.RunPage })));

function RunPageLoading() {
  return (
    <p className="muted" role="status">
      Loading the run view…
    </p>
  );
}

// A 401 anywhere means the key is no longer good (revoked): sign out and say why.
function QueryLayer({ children }: { children: ReactNode }) {
  const { signOut } = useAuth();
  const queryClient = useMemo(() => {
    const onError = (e: unknown) => {
      if (e instanceof ApiError && e.kind === "unauthorized") signOut(e.message);
    };
    return new QueryClient({
      queryCache: new QueryCache({ onError }),
      mutationCache: new MutationCache({ onError }),
      defaultOptions: {
        queries: {
          retry: (count, e) => !(e instanceof ApiError && e.status > 0 && e.status < 500) && count < 2,
          refetchOnWindowFocus: false,
        },
      },
    });
  }, [signOut]);
  return <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
}

export function AppRoutes() {
  const { client } = useAuth();
  if (!client) return <SignInPage />;
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Navigate to="/runs" replace />} />
        <Route path="runs" element={<RunsPage />} />
        <Route path="runs/new" element={<NewRunPage />} />
        <Route
          path="runs/:id"
          element={
            <Suspense fallback={<RunPageLoading />}>
              <RunPage />
            </Suspense>
          }
        />
        <Route path="queue" element={<QueuePage />} />
        <Route path="tools" element={<ToolsPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}

export function App() {
  return (
    <AuthProvider>
      <QueryLayer>
        <BrowserRouter>
          <AppRoutes />
        </BrowserRouter>
      </QueryLayer>
    </AuthProvider>
  );
}
