// @vitest-environment jsdom
import { act, cleanup, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { renderChatApp } from "../testing/chatApp";
import { FakeSocket } from "../testing/fakeSocket";
import { stubResizeObserver } from "../testing/layout";

let socket: FakeSocket;
vi.mock("socket.io-client", async () => (await import("../testing/fakeSocket")).fakeSocketIo(() => socket));

beforeAll(stubResizeObserver);

beforeEach(() => {
  socket = new FakeSocket();
  socket.acks.join = (p) => ({ ok: true, channel: p.channel, messages: [], last_seq: 0, members: ["alice"], role: null, muted_until: null, events: [] });
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function setup(roles: string[]) {
  return renderChatApp({
    "GET /api/me": { username: "alice", roles },
    "GET /api/me/channels": {
      channels: [
        { name: "desk", created_by: "bob", created_at: "", visibility: "private", kind: "channel" },
        { name: "general", created_by: "system", created_at: "" },
      ],
    },
    "GET /api/channels/general/pins": { messages: [] },
    "GET /api/channels/desk/pins": { messages: [] },
    "GET /api/admin/audit": { entries: [], next_before: null },
    "GET /api/invites": { invites: [] },
    "GET /api/admin/users": { users: [] },
  });
}

describe("ChatApp", () => {
  it("opens the admin page for a site admin and goes back to the channel", async () => {
    const { user } = setup(["user", "admin"]);
    await user.click(await screen.findByRole("button", { name: "Admin" }));
    expect(await screen.findByRole("heading", { name: "Administration" })).toBeTruthy();
    expect(document.title).toBe("Administration · investor-chat");
    await user.click(screen.getByRole("button", { name: "Back to chat" }));
    expect(screen.getByRole("heading", { level: 1, name: /general/ })).toBeTruthy();
  });

  it("tells the user why a channel they had open went, until they dismiss it", async () => {
    const { user } = setup(["user"]);
    const list = await screen.findByTestId("channel-list");
    await user.click(await within(list).findByRole("button", { name: /desk/ }));
    await waitFor(() => expect(socket.emits.some((e) => e.event === "join" && e.payload.channel === "desk")).toBe(true));
    act(() => socket.fire("channel_event", { seq: 3, channel: "desk", kind: "banned", by: "bob", ts: "2026-03-02T14:00:00Z", target: "alice" }));
    const notice = await screen.findByTestId("access-notice");
    expect(notice.getAttribute("role")).toBe("alert");
    expect(notice.textContent).toContain("bob banned you from #desk.");
    expect(within(list).queryByRole("button", { name: /desk/ })).toBeNull();
    expect(screen.getByRole("heading", { level: 1, name: /general/ })).toBeTruthy();
    await user.click(within(notice).getByRole("button", { name: "Dismiss" }));
    await waitFor(() => expect(screen.queryByTestId("access-notice")).toBeNull());
    expect(screen.queryByRole("button", { name: "Admin" })).toBeNull();
  });
});
