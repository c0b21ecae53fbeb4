// @vitest-environment jsdom
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Channel, NotifyPrefs } from "../lib/types";
import { fakeFetch, type Call } from "../testing/fakeFetch";
import { NotificationSettings } from "./NotificationSettings";

const CHANNELS: Channel[] = [
  { name: "desk", created_by: "bob", created_at: "" },
  { name: "general", created_by: "system", created_at: "" },
  { name: "dm-0123456789abcdef0123", created_by: "bob", created_at: "", kind: "dm", visibility: "private", members: ["alice", "bob"] },
];
const STORED: NotifyPrefs = { keywords: ["earnings"], cashtags: ["AAPL"], channels: { desk: "all", gone: "none" } };

let requestPermission: ReturnType<typeof vi.fn>;
beforeEach(() => {
  requestPermission = vi.fn(() => Promise.resolve("granted"));
  vi.stubGlobal("Notification", Object.assign(function () {}, { permission: "default", requestPermission }));
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function setup(routes: Record<string, unknown> = {}) {
  const calls = fakeFetch({
    "GET /api/me/notify": STORED,
    "PUT /api/me/notify": (c: Call) => ({ ...(c.body as NotifyPrefs), keywords: (c.body as NotifyPrefs).keywords.map((k) => k.toLowerCase()) }),
    ...routes,
  });
  const onClose = vi.fn();
  const user = userEvent.setup();
  render(<NotificationSettings channels={CHANNELS} me="alice" onClose={onClose} />);
  return { calls, onClose, user };
}

const dialog = () => screen.getByRole("dialog", { name: "Notification settings" });

describe("NotificationSettings", () => {
  it("shows the stored preferences and saves the whole of them, keeping levels of channels not listed", async () => {
    const { calls, user } = setup();
    const keywords = await screen.findByLabelText("Keywords");
    expect((keywords as HTMLTextAreaElement).value).toBe("earnings");
    expect(screen.getByLabelText<HTMLInputElement>("Cashtags").value).toBe("$AAPL");
    expect(screen.getByLabelText<HTMLSelectElement>("#desk").value).toBe("all");
    expect(screen.getByLabelText<HTMLSelectElement>("@bob").value).toBe("");
    await user.type(keywords, "\nRate Cut");
    await user.clear(screen.getByLabelText("Cashtags"));
    await user.type(screen.getByLabelText("Cashtags"), "$tsla, aapl");
    await user.selectOptions(screen.getByLabelText("#general"), "none");
    await user.selectOptions(screen.getByLabelText("#desk"), "");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Saved.")).toBeTruthy();
    expect(calls.filter((c) => c.method === "PUT").map((c) => c.body)).toEqual([
      { keywords: ["earnings", "rate cut"], cashtags: ["TSLA", "AAPL"], channels: { gone: "none", general: "none" } },
    ]);
    expect(screen.getByLabelText<HTMLInputElement>("Cashtags").value).toBe("$TSLA $AAPL");
  });

  it("says what is wrong with a field before saving, and sends nothing", async () => {
    const { calls, user } = setup();
    const cashtags = await screen.findByLabelText("Cashtags");
    await user.type(cashtags, " $5");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(screen.getByTestId("cashtags-error").textContent).toBe("“$5” is not a cashtag (like $AAPL or $VOD.L).");
    expect(cashtags.getAttribute("aria-invalid")).toBe("true");
    expect(cashtags.getAttribute("aria-describedby")).toContain(screen.getByTestId("cashtags-error").id);
    expect(document.activeElement).toBe(cashtags);
    expect(calls.some((c) => c.method === "PUT")).toBe(false);
  });

  it("shows the server's refusal plainly", async () => {
    const { user } = setup({ "PUT /api/me/notify": { status: 400, error: { code: "invalid_payload", message: "keywords: at most 50 items" } } });
    await screen.findByLabelText("Keywords");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Not saved: keywords: at most 50 items");
    expect(screen.queryByText("Saved.")).toBeNull();
  });

  it("says when the settings could not be loaded and tries again on request", async () => {
    let fail = true;
    const { user } = setup({
      "GET /api/me/notify": () => (fail ? { status: 500, error: { code: "internal_error", message: "Something went wrong" } } : STORED),
    });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Something went wrong");
    fail = false;
    await user.click(within(alert).getByRole("button", { name: "Try again" }));
    expect(await screen.findByLabelText("Keywords")).toBeTruthy();
  });

  it("asks for desktop notifications only when the button is clicked", async () => {
    const { user } = setup();
    await screen.findByLabelText("Keywords");
    expect(requestPermission).not.toHaveBeenCalled();
    await user.click(screen.getByRole("button", { name: "Enable desktop notifications" }));
    expect(requestPermission).toHaveBeenCalledTimes(1);
    expect((await screen.findByTestId("desktop-permission")).textContent).toContain("Desktop notifications are on");
  });

  it("closes with Escape and has no serious accessibility findings", async () => {
    const { onClose, user } = setup();
    await screen.findByLabelText("Keywords");
    const res = await axe.run(dialog(), { rules: { "color-contrast": { enabled: false } } });
    expect(res.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);
    await user.keyboard("{Escape}");
    await waitFor(() => expect(onClose).toHaveBeenCalled());
  });
});
