import { describe, expect, it } from "vitest";
import { chatReducer, initialState, MAX_KEPT, typingIn, typingText, unreadFor, type ChatAction, type ChatState } from "./chatState";
import type { Message } from "./types";

const msg = (channel: string, seq: number, user = "bob"): Message => ({
  id: `${channel}-${seq}`,
  channel,
  seq,
  user,
  text: `hello ${seq}`,
  ts: "2026-11-28T09:00:00Z",
  bot: false,
});

const run = (state: ChatState, ...actions: ChatAction[]) => actions.reduce(chatReducer, state);

const base = () =>
  run(
    initialState("alice"),
    {
      type: "channels_loaded",
      channels: [
        { name: "general", created_by: "system", created_at: "" },
        { name: "desk", created_by: "bob", created_at: "" },
      ],
    },
    { type: "select", channel: "general" },
    { type: "joined", ack: { channel: "general", messages: [msg("general", 1)], last_seq: 1, members: ["bob", "alice"] } },
    { type: "joined", ack: { channel: "desk", messages: [msg("desk", 1), msg("desk", 2)], last_seq: 2, members: ["alice"] } },
  );

describe("chatReducer", () => {
  it("keeps at most about MAX_KEPT live messages a channel, and says older ones can be loaded", () => {
    let s = base();
    for (let seq = 2; seq <= MAX_KEPT * 1.2; seq++) s = chatReducer(s, { type: "message", message: msg("general", seq) });
    const general = s.byChannel.general!;
    expect(general.items.length).toBeLessThanOrEqual(MAX_KEPT * 1.1);
    expect(general.items.at(-1)!.seq).toBe(MAX_KEPT * 1.2);
    expect(general.hasMore).toBe(true);
  });

  it("sorts channels by name and ignores duplicate channel_created", () => {
    const s = base();
    expect(s.channels.map((c) => c.name)).toEqual(["desk", "general"]);
    const again = chatReducer(s, { type: "channel_created", channel: { name: "desk", created_by: "x", created_at: "" } });
    expect(again).toBe(s);
  });

  it("starts channels seen for the first time as read", () => {
    const s = base();
    expect(unreadFor(s, "desk")).toEqual({ count: 0, more: false });
  });

  it("counts live messages in other channels, not in the open one, not my own", () => {
    const s = run(
      base(),
      { type: "message", message: msg("desk", 3) },
      { type: "message", message: msg("desk", 4, "alice") },
      { type: "message", message: msg("desk", 5) },
      { type: "message", message: msg("general", 2) },
    );
    expect(unreadFor(s, "desk").count).toBe(2);
    expect(unreadFor(s, "general").count).toBe(0);
    expect(s.readMarks.general).toBe(2);
  });

  it("clears unread when the channel is opened", () => {
    const s = run(base(), { type: "message", message: msg("desk", 3) }, { type: "select", channel: "desk" });
    expect(unreadFor(s, "desk").count).toBe(0);
    expect(s.readMarks.desk).toBe(3);
    expect(unreadFor(run(s, { type: "select", channel: "general" }), "desk").count).toBe(0);
  });

  it("makes everything in a channel created live unread", () => {
    const s = run(
      base(),
      { type: "channel_created", channel: { name: "macro", created_by: "bob", created_at: "" } },
      { type: "joined", ack: { channel: "macro", messages: [msg("macro", 1)], last_seq: 1, members: ["bob"] } },
    );
    expect(s.channels.map((c) => c.name)).toEqual(["desk", "general", "macro"]);
    expect(unreadFor(s, "macro").count).toBe(1);
  });

  it("merges catch-up joins without duplicates", () => {
    const s = run(
      base(),
      { type: "message", message: msg("general", 2) },
      { type: "message", message: msg("general", 4) },
      { type: "joined", ack: { channel: "general", messages: [msg("general", 2), msg("general", 3), msg("general", 4)], last_seq: 4, members: ["bob"] } },
    );
    expect(s.byChannel.general!.items.map((i) => i.seq)).toEqual([1, 2, 3, 4]);
  });

  it("knows whether older history exists", () => {
    const s = run(
      initialState("alice"),
      { type: "joined", ack: { channel: "general", messages: [msg("general", 51), msg("general", 52)], last_seq: 52, members: [] } },
    );
    expect(s.byChannel.general!.hasMore).toBe(true);
    const older = chatReducer(s, { type: "history", channel: "general", messages: [msg("general", 1)], hasMore: false });
    expect(older.byChannel.general!.hasMore).toBe(false);
    expect(older.byChannel.general!.items[0]!.seq).toBe(1);
  });

  it("shows ephemeral bot replies locally only", () => {
    const s = chatReducer(base(), {
      type: "message",
      message: { channel: "general", user: "StockBot", text: "Unknown code", ts: "", bot: true, ephemeral: true },
    });
    const items = s.byChannel.general!.items;
    expect(items.at(-1)!.ephemeral).toBe(true);
    expect(unreadFor(s, "general").count).toBe(0);
  });

  it("tracks presence", () => {
    let s = chatReducer(base(), { type: "presence", channel: "general", user: "carol", online: true });
    expect(s.byChannel.general!.members).toEqual(["alice", "bob", "carol"]);
    s = chatReducer(s, { type: "presence", channel: "general", user: "bob", online: false });
    expect(s.byChannel.general!.members).toEqual(["alice", "carol"]);
    expect(chatReducer(s, { type: "presence", channel: "general", user: "carol", online: true })).toBe(s);
  });

  it("shows typing for a while, never for myself, and stops when they post", () => {
    let s = run(
      base(),
      { type: "typing", channel: "general", user: "bob", until: 5000 },
      { type: "typing", channel: "general", user: "alice", until: 5000 },
      { type: "typing", channel: "general", user: "carol", until: 3000 },
    );
    expect(typingIn(s, "general", 1000)).toEqual(["bob", "carol"]);
    expect(typingIn(s, "general", 4000)).toEqual(["bob"]);
    s = chatReducer(s, { type: "message", message: msg("general", 2, "bob") });
    expect(typingIn(s, "general", 1000)).toEqual(["carol"]);
    s = chatReducer(s, { type: "typing_expire", now: 3500 });
    expect(s.typing.general).toBeUndefined();
  });

  it("forgets membership on disconnect", () => {
    const s = chatReducer(base(), { type: "disconnected" });
    expect(s.byChannel.general!.joined).toBe(false);
    expect(s.byChannel.general!.items).toHaveLength(1);
  });
});

describe("typingText", () => {
  it("reads naturally", () => {
    expect(typingText([])).toBe("");
    expect(typingText(["bob"])).toBe("bob is typing…");
    expect(typingText(["bob", "carol"])).toBe("bob and carol are typing…");
    expect(typingText(["a", "b", "c", "d"])).toBe("a, b and 2 more are typing…");
  });
});
