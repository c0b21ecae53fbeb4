// @vitest-environment jsdom
import { act, cleanup, screen, waitFor, within } from "@testing-library/react";
import axe from "axe-core";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChatNotification } from "../lib/types";
import { renderChatApp } from "../testing/chatApp";
import { fakeFetch, type Call } from "../testing/fakeFetch";
import { FakeSocket } from "../testing/fakeSocket";
import { stubResizeObserver } from "../testing/layout";

let socket: FakeSocket;
vi.mock("socket.io-client", async () => (await import("../testing/fakeSocket")).fakeSocketIo(() => socket));

beforeAll(stubResizeObserver);

beforeEach(() => {
  socket = new FakeSocket();
  socket.acks.join = (p) => ({ ok: true, channel: p.channel, messages: [], last_seq: 4, members: ["alice"], role: null, muted_until: null, events: [] });
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const note = (id: string, seq: number, kind: ChatNotification["kind"] = "mention"): ChatNotification => ({
  id,
  kind,
  channel: "desk",
  text: `bob mentioned you in #desk: note ${id}`,
  ts: "2026-03-02T14:00:00Z",
  message: { id: `m${seq}`, channel: "desk", seq, user: "bob", text: `@alice note ${id}`, ts: "2026-03-02T14:00:00Z", mentions: ["alice"] },
});

function setup() {
  return renderChatApp({
    "GET /api/me": { username: "alice", roles: ["user"] },
    "GET /api/me/channels": {
      channels: [
        { name: "desk", created_by: "bob", created_at: "", last_seq: 4, read_seq: 4, unread: 0, mentions: 0 },
        { name: "general", created_by: "system", created_at: "", last_seq: 4, read_seq: 4, unread: 0, mentions: 0 },
      ],
    },
    "GET /api/me/notifications": (c: Call) =>
      c.query.get("before") === "n02"
        ? { notifications: [{ id: "n01", kind: "alert", text: "AAPL rose above 200", ts: "2026-03-01T09:00:00Z" }], next_before: null }
        : { notifications: [note("n03", 3), note("n02", 2)], next_before: "n02" },
    "GET /api/channels/general/pins": { messages: [] },
    "GET /api/channels/desk/pins": { messages: [] },
  });
}

const sidebarEntry = (name: string) => within(screen.getByTestId("channel-list")).getByRole("button", { name: new RegExp(name) });

describe("the notifications inbox", () => {
  it("counts live notifications on the bell and in the title until opened, lists them with older pages, and opens a channel", async () => {
    const { calls, user } = setup();
    await screen.findByRole("heading", { level: 1, name: /general/ });
    await waitFor(() => expect(socket.emits.some((e) => e.event === "join" && e.payload.channel === "desk")).toBe(true));
    act(() => {
      socket.fire("message", { id: "m5", channel: "desk", seq: 5, user: "bob", text: "@alice look at this", ts: "2026-03-02T14:00:00Z", mentions: ["alice"] });
      socket.fire("notification", note("n04", 5));
    });
    const bell = await screen.findByRole("button", { name: "Notifications, 1 new" });
    expect(within(bell).getByTestId("inbox-count").textContent).toBe("1");
    expect(document.title).toBe("(1) #general · investor-chat");
    expect(within(sidebarEntry("desk")).getByTestId("mention-badge").textContent).toBe("@1 mention");

    await user.click(bell);
    const inbox = screen.getByRole("dialog", { name: "Notifications" });
    await waitFor(() => expect(within(inbox).getAllByTestId("notification")).toHaveLength(3));
    expect(within(inbox).getAllByTestId("notification").map((n) => n.textContent)).toEqual([
      expect.stringContaining("note n04"),
      expect.stringContaining("note n03"),
      expect.stringContaining("note n02"),
    ]);
    expect(within(inbox).getAllByTestId("notification")[0]!.textContent).toContain("Unread:");
    expect(screen.queryByTestId("inbox-count")).toBeNull();
    expect(document.title).toBe("#general · investor-chat");
    const res = await axe.run(inbox, { rules: { "color-contrast": { enabled: false } } });
    expect(res.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);

    await user.click(within(inbox).getByRole("button", { name: "Load more" }));
    await waitFor(() => expect(within(inbox).getAllByTestId("notification")).toHaveLength(4));
    expect(calls.filter((c) => c.path === "/api/me/notifications").map((c) => c.query.get("before"))).toEqual([null, "n02"]);
    expect(within(inbox).queryByRole("button", { name: "Load more" })).toBeNull();
    // An alert is about no channel: it is text, not a button.
    expect(within(inbox).getAllByRole("button", { name: /mentioned you/ })).toHaveLength(3);

    await user.click(within(inbox).getByRole("button", { name: /note n04/ }));
    expect(await screen.findByRole("heading", { level: 1, name: /desk/ })).toBeTruthy();
    expect(screen.queryByRole("dialog", { name: "Notifications" })).toBeNull();
    await waitFor(() => expect(within(sidebarEntry("desk")).queryByTestId("mention-badge")).toBeNull());
    await waitFor(() => expect(socket.emits.filter((e) => e.event === "read").map((e) => e.payload)).toContainEqual({ channel: "desk", seq: 5 }));
  });

  it("closes with Escape, back to the bell, and says when it could not load", async () => {
    const { user } = setup();
    fakeFetch({
      "GET /api/me": { username: "alice", roles: ["user"] },
      "GET /api/me/channels": { channels: [] },
      "GET /api/me/notifications": { status: 503, error: { code: "unavailable", message: "Try again shortly" } },
    });
    const bell = await screen.findByRole("button", { name: "Notifications" });
    await user.click(bell);
    const inbox = screen.getByRole("dialog", { name: "Notifications" });
    expect((await within(inbox).findByRole("alert")).textContent).toBe("Try again shortly");
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog", { name: "Notifications" })).toBeNull();
    expect(document.activeElement).toBe(bell);
  });
  it("shows a price alert and a closed idea once each however often the server pushes them, the idea with a way to its channel", async () => {
    const { user } = setup();
    await screen.findByRole("heading", { level: 1, name: /general/ });
    const alert: ChatNotification = { id: "n10", kind: "alert", channel: null, text: "AAPL.US rose above $200.00: now $200.15", ts: "2026-03-02T15:00:00Z" };
    const closed: ChatNotification = {
      id: "n11",
      kind: "idea",
      channel: "desk",
      text: "Your long AAPL.US idea: target hit at $100.20 (+7.26%)",
      ts: "2026-03-02T15:01:00Z",
      message: { id: "m3", channel: "desk", seq: 3, rev: 6, user: "StockBot", bot: true, text: "alice: long AAPL.US", ts: "2026-03-02T14:00:00Z" },
    };
    // A replica that dies after the push but before marking it delivered: the next one pushes the same ids again.
    act(() => {
      socket.fire("notification", alert);
      socket.fire("notification", closed);
      socket.fire("notification", alert);
      socket.fire("notification", { ...closed });
    });
    const bell = await screen.findByRole("button", { name: "Notifications, 2 new" });
    await user.click(bell);
    const inbox = screen.getByRole("dialog", { name: "Notifications" });
    await waitFor(() => expect(within(inbox).getAllByTestId("notification").map((n) => n.dataset.kind)).toEqual(["idea", "alert", "mention", "mention"]));
    const [idea, price] = within(inbox).getAllByTestId("notification");
    expect(price!.tagName).toBe("DIV");
    expect(price!.textContent).toContain("Price alert");
    expect(price!.textContent).toContain("AAPL.US rose above $200.00");
    expect(idea!.textContent).toContain("Trade idea");
    expect(idea!.textContent).toContain("#desk");
    await user.click(within(inbox).getByRole("button", { name: /target hit/ }));
    expect(await screen.findByRole("heading", { level: 1, name: /desk/ })).toBeTruthy();
  });
});
