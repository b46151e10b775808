// The runs list's live layer and the live indicator: "*" subscription, cache patch and
// refetch on run events, polling without a WebSocket, and the indicator's words.
import { useQuery } from "@tanstack/react-query";
import { act, render, renderHook, screen, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Page, Run } from "../api/types";
import { Providers, presetKey, testKey, testQueryClient } from "../test/render";
import { LiveIndicator } from "./LiveIndicator";
import { liveStatusOf } from "./liveStatus";
import { runsQueryKey } from "./queryKeys";
import { ev, FakeWebSocket, runId, installFakeLiveSockets, removeFakeLiveSockets } from "./testing";
import { useLiveRunList } from "./useLiveRunList";

const run = (status: Run["status"]): Run => ({
  id: runId,
  status,
  input: "task",
  options: {},
  answer: null,
  error: null,
  created_at: "2026-11-25T08:07:00.000Z",
  started_at: null,
  finished_at: null,
  usage: { tokens_in: 0, tokens_out: 0, cost: 0 },
});

describe("useLiveRunList", () => {
  beforeEach(() => {
    installFakeLiveSockets();
    presetKey(testKey, null);
  });
  afterEach(() => {
    removeFakeLiveSockets();
  });

  it("follows '*' and patches then refetches the runs list on run events", async () => {
    const queryClient = testQueryClient();
    let fetches = 0;
    const wrapper = ({ children }: { children: ReactNode }) => <Providers queryClient={queryClient}>{children}</Providers>;
    const { result } = renderHook(
      () => {
        const live = useLiveRunList();
        const list = useQuery({
          queryKey: [...runsQueryKey, "all"],
          queryFn: async (): Promise<Page<Run>> => {
            fetches += 1;
            return { data: [run("running")], next_cursor: null };
          },
          refetchInterval: live.refetchInterval,
        });
        return { live, list };
      },
      { wrapper },
    );
    await waitFor(() => expect(result.current.list.data?.data[0]?.status).toBe("running"));
    expect(result.current.live.refetchInterval).toBe(2000); // not connected yet
    const ws = FakeWebSocket.last();
    act(() => ws.open());
    expect(ws.messages()).toEqual([{ subscribe: "*" }]);
    expect(result.current.live).toEqual({ refetchInterval: false, transport: "websocket" });
    const before = fetches;
    act(() => ws.receive(ev(9, "run.failed", undefined, { error: { code: "deadline", message: "late" } })));
    expect(queryClient.getQueryData<Page<Run>>([...runsQueryKey, "all"])?.data[0]?.status).toBe("failed");
    await waitFor(() => expect(fetches).toBeGreaterThan(before));
    // Streamed text does not touch the list.
    const after = fetches;
    act(() => ws.receive(ev(10, "llm.delta", "solver", { delta: "x" })));
    await new Promise((r) => setTimeout(r, 400));
    expect(fetches).toBe(after);
  });

  it("asks the page to poll every 2 s when the WebSocket cannot open", async () => {
    const wrapper = ({ children }: { children: ReactNode }) => <Providers queryClient={testQueryClient()}>{children}</Providers>;
    const { result } = renderHook(() => useLiveRunList(), { wrapper });
    act(() => FakeWebSocket.last().fail());
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(2));
    act(() => FakeWebSocket.last().fail());
    expect(result.current).toEqual({ refetchInterval: 2000, transport: "poll" });
  });

  it("polls without opening a socket when localStorage says poll", () => {
    localStorage.setItem("grok.transport", "poll");
    const wrapper = ({ children }: { children: ReactNode }) => <Providers queryClient={testQueryClient()}>{children}</Providers>;
    const { result } = renderHook(() => useLiveRunList(), { wrapper });
    expect(result.current.refetchInterval).toBe(2000);
    expect(FakeWebSocket.instances).toHaveLength(0);
  });
});

describe("LiveIndicator", () => {
  beforeEach(() => {
    installFakeLiveSockets();
  });
  afterEach(() => {
    removeFakeLiveSockets();
  });

  it("says Reconnecting… until the socket opens, then Live (WebSocket), then Polling when it cannot", async () => {
    presetKey(testKey, null);
    render(
      <Providers queryClient={testQueryClient()}>
        <LiveIndicator />
      </Providers>,
    );
    const status = screen.getByRole("status", { name: "Live updates" });
    expect(status).toHaveTextContent("Reconnecting…");
    act(() => FakeWebSocket.last().open());
    expect(status).toHaveTextContent("Live (WebSocket)");
    act(() => FakeWebSocket.last().serverClose(1001));
    expect(status).toHaveTextContent("Reconnecting…");
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(2));
    act(() => FakeWebSocket.last().fail());
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(3));
    act(() => FakeWebSocket.last().fail());
    expect(status).toHaveTextContent("Polling");
  });

  it("says Polling when polling is forced, and opens no socket", () => {
    presetKey(testKey, "poll");
    render(
      <Providers queryClient={testQueryClient()}>
        <LiveIndicator />
      </Providers>,
    );
    expect(screen.getByRole("status", { name: "Live updates" })).toHaveTextContent("Polling");
    expect(FakeWebSocket.instances).toHaveLength(0);
  });

  it("maps states to the contract's words", () => {
    expect(liveStatusOf("open", 0, null).label).toBe("Live (WebSocket)");
    expect(liveStatusOf("fallback", 1, null).label).toBe("Live (SSE)");
    expect(liveStatusOf("open", 1, "sse").label).toBe("Live (SSE)");
    expect(liveStatusOf("fallback", 0, null).label).toBe("Polling");
    expect(liveStatusOf("reconnecting", 0, null).label).toBe("Reconnecting…");
    expect(liveStatusOf("open", 2, "poll").label).toBe("Polling");
  });
});
