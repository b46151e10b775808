// Tests for the small shared components: StatusBadge, RelativeTime, ErrorNotice.
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { ErrorNotice, errorMessage } from "./ErrorNotice";
import { RelativeTime } from "./RelativeTime";
import { StatusBadge, statusTone } from "./StatusBadge";

describe("StatusBadge", () => {
  it("shows the status word with a tone class", () => {
    render(<StatusBadge status="failed" />);
    const badge = screen.getByText("failed");
    expect(badge).toHaveClass("badge", "badge-bad");
    expect(badge).toHaveAttribute("data-status", "failed");
  });
  it("maps statuses to tones, unknown ones to idle", () => {
    expect(statusTone("completed")).toBe("ok");
    expect(statusTone("running")).toBe("run");
    expect(statusTone("awaiting_input")).toBe("warn");
    expect(statusTone("something-new")).toBe("idle");
  });
});

describe("RelativeTime", () => {
  it("renders <time> with the ISO time and the exact time as title", () => {
    const now = Date.parse("2026-11-25T08:10:00.000Z");
    const { container } = render(<RelativeTime value="2026-11-25T08:07:00.000Z" now={now} />);
    const time = container.querySelector("time");
    expect(time).toHaveTextContent("3 min ago");
    expect(time).toHaveAttribute("dateTime", "2026-11-25T08:07:00.000Z");
    expect(time?.getAttribute("title")).toMatch(/^2026-11-2\d \d\d:\d7:00/);
  });
  it("shows a dash without a time", () => {
    const { container } = render(<RelativeTime value={null} />);
    expect(container.querySelector("time")).toBeNull();
    expect(container).toHaveTextContent("—");
  });
});

describe("ErrorNotice", () => {
  it("shows the sentence and the request id of a problem", () => {
    const e = new ApiError("client", 400, "options.max_steps: must be at most 64", {
      type: "https://grok.dev/problems/bad-request",
      title: "Bad Request",
      status: 400,
      detail: "options.max_steps: must be at most 64",
      request_id: "req_abc123",
    });
    render(<ErrorNotice error={e} title="The run was not started" />);
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent("The run was not started");
    expect(alert).toHaveTextContent("options.max_steps: must be at most 64");
    expect(alert).toHaveTextContent("Request id: req_abc123");
  });
  it("shows HTML in an error as text", () => {
    render(<ErrorNotice error={new Error("<img src=x onerror=alert(1)>boom")} />);
    expect(screen.getByRole("alert")).toHaveTextContent("<img src=x onerror=alert(1)>boom");
    expect(screen.getByRole("alert").querySelector("img")).toBeNull();
  });
  it("has sentences for odd errors", () => {
    expect(errorMessage(new SyntaxError("Unexpected token <"))).toMatch(/not JSON/);
    expect(errorMessage(42)).toBe("Something went wrong.");
  });
});
