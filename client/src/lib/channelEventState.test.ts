import { describe, expect, it } from "vitest";
import { chatReducer, initialState, type ChatAction, type ChatState } from "./chatState";
import { unreadFor } from "./readMarks";
import type { ChannelEvent, JoinAck, Message } from "./types";

const msg = (seq: number, user = "bob"): Message => ({ id: `m${seq}`, channel: "desk", seq, user, text: `t${seq}`, ts: "2026-03-02T14:00:00Z" });
const ev = (seq: number, over: Partial<ChannelEvent> = {}): ChannelEvent => ({
  seq,
  channel: "desk",
  kind: "muted",
  by: "bob",
  ts: "2026-03-02T14:00:00Z",
  target: "carol",
  until: "2026-03-02T14:10:00Z",
  ...over,
});
const ack = (over: Partial<JoinAck> = {}): JoinAck => ({ channel: "desk", messages: [msg(1), msg(2)], last_seq: 2, members: ["alice", "bob"], ...over });

const run = (state: ChatState, ...actions: ChatAction[]) => actions.reduce(chatReducer, state);
const joined = (over: Partial<JoinAck> = {}) =>
  run(
    initialState("alice"),
    {
      type: "channels_loaded",
      channels: [
        { name: "desk", created_by: "bob", created_at: "", last_seq: 2, read_seq: 2, unread: 0, mentions: 0 },
        { name: "general", created_by: "x", created_at: "", last_seq: 0, read_seq: 0, unread: 0, mentions: 0 },
      ],
    },
    { type: "select", channel: "general" },
    { type: "joined", ack: ack(over) },
  );
const desk = (s: ChatState) => s.byChannel.desk!;

describe("channel events in the chat state", () => {
  it("shows a live event as a line at its seq, in the same seq stream as messages, never unread", () => {
    const s = run(joined(), { type: "channel_event", event: ev(3) }, { type: "message", message: msg(4) });
    expect(desk(s).items.map((i) => [i.seq, i.event?.kind ?? "message"])).toEqual([
      [1, "message"],
      [2, "message"],
      [3, "muted"],
      [4, "message"],
    ]);
    expect(desk(s).seq).toEqual({ last: 4, synced: 4, ahead: [] });
    expect(unreadFor(s, "desk").count).toBe(1);
  });

  it("takes an event once however often it comes", () => {
    const once = run(joined(), { type: "channel_event", event: ev(3) });
    expect(chatReducer(once, { type: "channel_event", event: ev(3) })).toBe(once);
  });

  it("applies a join's events in their places and takes the ack's role and mute as the current word", () => {
    const s = run(joined(), {
      type: "joined",
      after: 2,
      ack: ack({
        messages: [msg(4)],
        last_seq: 5,
        events: [ev(3, { target: "alice" }), ev(5, { kind: "settings_changed", target: null, changes: { topic: "Q1 earnings", slow_mode_s: 30 } })],
        role: "member",
        muted_until: null, // unmuted since, say: the ack knows
      }),
    });
    expect(desk(s).items.map((i) => i.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(desk(s).mutedUntil).toBeNull();
    expect(desk(s).role).toBe("member");
    expect(desk(s).seq.synced).toBe(5);
    expect(s.channels.find((c) => c.name === "desk")).toMatchObject({ topic: "Q1 earnings", slow_mode_s: 30 });
  });

  it("mutes and unmutes the signed-in user, changes their role, and counts roster changes", () => {
    let s = joined({ role: "member", muted_until: null });
    const rev = desk(s).rosterRev;
    s = run(s, { type: "channel_event", event: ev(3, { target: "Alice" }) });
    expect(desk(s).mutedUntil).toBe("2026-03-02T14:10:00Z");
    s = run(s, { type: "channel_event", event: ev(4, { kind: "unmuted", target: "alice", until: null }) });
    expect(desk(s).mutedUntil).toBeNull();
    s = run(s, { type: "channel_event", event: ev(5, { kind: "role_changed", target: "alice", role: "moderator" }) });
    expect(desk(s).role).toBe("moderator");
    s = run(s, { type: "channel_event", event: ev(6, { kind: "muted", target: "carol" }) });
    expect(desk(s).mutedUntil).toBeNull();
    expect(desk(s).rosterRev).toBe(rev + 4);
    s = run(s, { type: "channel_event", event: ev(7, { kind: "settings_changed", target: null, changes: { slow_mode_s: 10 } }) });
    expect(desk(s).rosterRev).toBe(rev + 4);
    expect(s.channels.find((c) => c.name === "desk")!.slow_mode_s).toBe(10);
  });

  it("keeps a mute the server reported in a refusal", () => {
    const s = run(joined(), { type: "muted", channel: "desk", until: "2026-03-02T15:00:00Z" });
    expect(desk(s).mutedUntil).toBe("2026-03-02T15:00:00Z");
  });

  it("takes only the settings of an event in a channel not joined: the join's catch-up brings its line", () => {
    const s = run(joined(), {
      type: "channel_event",
      event: { ...ev(9, { kind: "settings_changed", target: null, changes: { topic: "hello" } }), channel: "general" },
    });
    expect(s.byChannel.general).toBeUndefined();
    expect(s.channels.find((c) => c.name === "general")!.topic).toBe("hello");
  });

  it("does not put an event older than the loaded history in (it would leave a hole), but keeps its effect", () => {
    let s = joined({ messages: [msg(50), msg(51)], last_seq: 51 });
    expect(desk(s).hasMore).toBe(true);
    s = run(s, { type: "joined", after: 51, ack: ack({ messages: [], last_seq: 51, events: [ev(10, { target: "alice" })] }) });
    expect(desk(s).items.map((i) => i.seq)).toEqual([50, 51]);
    expect(desk(s).mutedUntil).toBe("2026-03-02T14:10:00Z");
  });

  it("updates a channel's settings from a PATCH answer and keeps the site roles", () => {
    const s = run(
      joined(),
      { type: "channel_updated", channel: { name: "desk", created_by: "bob", created_at: "", topic: "new", slow_mode_s: 60 } },
      { type: "roles_loaded", roles: ["user", "admin"] },
    );
    expect(s.channels.find((c) => c.name === "desk")).toMatchObject({ topic: "new", slow_mode_s: 60 });
    expect(s.roles).toEqual(["user", "admin"]);
  });
});
