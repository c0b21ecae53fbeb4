// @vitest-environment jsdom
import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { ChatClient } from "../lib/chatClient";
import { chatReducer, initialState, type ChatAction, type ChatState } from "../lib/chatState";
import type { Channel, JoinAck } from "../lib/types";
import { stubResizeObserver } from "../testing/layout";
import { ChatPane } from "./ChatPane";

afterEach(() => cleanup());

beforeAll(stubResizeObserver);

describe("ChatPane header and timeline", () => {
  const channels: Channel[] = [
    { name: "desk", created_by: "bob", created_at: "", visibility: "private", kind: "channel", topic: "Rates and FX", slow_mode_s: 30 },
    { name: "dm-0123456789abcdef0123", created_by: "bob", created_at: "", visibility: "private", kind: "dm", members: ["alice", "bob"] },
  ];
  const ack = (over: Partial<JoinAck>): JoinAck => ({
    channel: "desk",
    messages: [{ id: "m1", channel: "desk", seq: 1, user: "bob", text: "morning", ts: "2026-03-02T14:00:00Z" }],
    last_seq: 1,
    members: ["alice", "bob"],
    ...over,
  });
  const state = (...actions: ChatAction[]): ChatState =>
    [{ type: "channels_loaded", channels } as ChatAction, ...actions].reduce(chatReducer, initialState("alice"));
  const client = { loadPins: () => Promise.resolve(), typing: () => {}, send: () => Promise.resolve({ ok: true }) } as unknown as ChatClient;
  const pane = (chat: ChatState, channel = "desk") =>
    render(<ChatPane client={client} chat={chat} channel={channel} conn="connected" onOpenSidebar={() => {}} />);

  it("shows the lock, the topic and slow mode; members for all, settings for moderators only", () => {
    pane(state({ type: "joined", ack: ack({ role: "member" }) }));
    expect(within(screen.getByRole("heading", { level: 1 })).getByRole("img", { name: "private" })).toBeTruthy();
    expect(screen.getByTestId("channel-topic").textContent).toBe("Rates and FX");
    expect(screen.getByTestId("slow-mode-badge").textContent).toBe("Slow mode · 30 s");
    expect(screen.getByRole("button", { name: "Members" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Channel settings" })).toBeNull();
    cleanup();
    pane(state({ type: "joined", ack: ack({ role: "moderator" }) }));
    expect(screen.getByRole("button", { name: "Channel settings" })).toBeTruthy();
  });

  it("gives site admins the settings in any channel, and shows the composer's mute from the join", () => {
    pane(state({ type: "roles_loaded", roles: ["user", "admin"] }, { type: "joined", ack: ack({ role: null, muted_until: "2099-01-01T00:00:00Z" }) }));
    expect(screen.getByRole("button", { name: "Channel settings" })).toBeTruthy();
    expect(screen.getByTestId("muted-notice").textContent).toContain("You are muted in #desk until");
  });

  it("names a DM by the other person, with neither members nor settings", () => {
    pane(state({ type: "joined", ack: ack({ channel: "dm-0123456789abcdef0123", role: "member" }) }), "dm-0123456789abcdef0123");
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("bob");
    expect(screen.getByRole("textbox", { name: "Message @bob" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Members" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Channel settings" })).toBeNull();
  });

  it("draws a channel event as a system line between the messages", async () => {
    // The list draws the rows that fit its height, which jsdom (no layout) says is 0.
    vi.spyOn(HTMLElement.prototype, "clientHeight", "get").mockReturnValue(600);
    vi.spyOn(HTMLElement.prototype, "clientWidth", "get").mockReturnValue(800);
    const chat = state(
      { type: "joined", ack: ack({ role: "owner" }) },
      { type: "channel_event", event: { seq: 2, channel: "desk", kind: "settings_changed", by: "bob", ts: "2026-03-02T14:01:00Z", changes: { slow_mode_s: 30 } } },
    );
    pane(chat);
    const lines = await screen.findAllByTestId("channel-event");
    expect(lines.map((l) => l.querySelector("p")!.textContent)).toEqual(["bob set slow mode to 30 s"]);
    expect(lines[0]!.dataset.seq).toBe("2");
    expect(screen.getAllByTestId("message").map((m) => m.dataset.seq)).toEqual(["1"]);
    vi.restoreAllMocks();
  });

  it("says on the channel list's button (a phone's way to the bell) that notifications wait", () => {
    pane(state({ type: "select", channel: "general" }, { type: "notification", notification: { id: "n1", kind: "keyword", channel: "desk", text: "x", ts: "" } }));
    expect(screen.getByRole("button", { name: "Open channel list, 1 new notification" })).toBeTruthy();
  });
});
