import { describe, expect, it } from "vitest";
import { threadOf } from "./channelState";
import { chatReducer, initialState, MAX_KEPT, typingIn, typingText, type ChatAction, type ChatState } from "./chatState";
import { unreadFor } from "./readMarks";
import type { ChatNotification, Message } from "./types";
import { myChannel } from "../testing/channels";

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
    { type: "channels_loaded", channels: [myChannel("general", 1), myChannel("desk", 2)] },
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

  it("keeps the channel list without the counts that come with it", () => {
    const s = base();
    expect(s.channels[0]).toEqual({ name: "desk", created_by: "bob", created_at: "" });
    expect(unreadFor(s, "desk")).toEqual({ count: 0, mentions: 0 });
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
    expect(s.read.general!.seq).toBe(2);
  });

  it("clears unread when the channel is opened", () => {
    const s = run(base(), { type: "message", message: msg("desk", 3) }, { type: "select", channel: "desk" });
    expect(unreadFor(s, "desk").count).toBe(0);
    expect(s.read.desk!.seq).toBe(3);
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

  it("forgets the read state of a channel that went", () => {
    const s = chatReducer(base(), { type: "channel_deleted", name: "desk" });
    expect(Object.keys(s.read)).toEqual(["general"]);
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

describe("message lifecycle (edits, deletes, reactions, replies, pins)", () => {
  const at = (s: ChatState, seq: number) => s.byChannel.general!.items.find((i) => i.seq === seq)!;
  const upd = (message: Message, seq: number): ChatAction => ({ type: "updated", channel: "general", seq, message });
  const two = () => run(base(), { type: "message", message: msg("general", 2) });

  it("replaces a message by a newer revision, in place, and ignores an older one", () => {
    let s = two();
    s = chatReducer(s, upd({ ...msg("general", 1), rev: 3, text: "edited", edited_at: "2026-11-28T09:01:00Z" }, 3));
    expect(s.byChannel.general!.items.map((i) => [i.seq, i.text])).toEqual([
      [1, "edited"],
      [2, "hello 2"],
    ]);
    expect(at(s, 1).key).toBe("general-1");
    const stale = chatReducer(s, upd({ ...msg("general", 1), rev: 2, text: "older" }, 2));
    expect(at(stale, 1).text).toBe("edited");
    // the same message again from a later catch-up: no change, no re-render
    const again = chatReducer(s, { type: "changes", channel: "general", messages: [{ ...msg("general", 1), rev: 3, text: "edited" }] });
    expect(again.byChannel.general!.items).toBe(s.byChannel.general!.items);
  });

  it("turns a deleted message into a tombstone that keeps its place", () => {
    const s = chatReducer(two(), upd({ ...msg("general", 1), rev: 3, text: "", deleted: true, reactions: [] }, 3));
    expect(s.byChannel.general!.items.map((i) => [i.seq, i.deleted ?? false])).toEqual([
      [1, true],
      [2, false],
    ]);
  });

  it("tracks seqs over messages and changes together", () => {
    let s = two(); // seq 1, 2
    s = chatReducer(s, upd({ ...msg("general", 1), rev: 3, reactions: [{ emoji: "🐂", count: 1, users: ["bob"] }] }, 3));
    s = chatReducer(s, { type: "message", message: msg("general", 4) });
    expect(s.byChannel.general!.seq).toEqual({ last: 4, synced: 4, ahead: [] });
    s = chatReducer(s, { type: "message", message: msg("general", 6) }); // 5 missed
    expect(s.byChannel.general!.seq).toEqual({ last: 6, synced: 4, ahead: [6] });
    // an ack is not part of the stream: it moves nothing
    const acked = chatReducer(s, { type: "message", message: msg("general", 9, "alice"), ack: true });
    expect(acked.byChannel.general!.seq).toBe(s.byChannel.general!.seq);
  });

  it("merges a catch-up's new and changed messages and moves to its last_seq", () => {
    let s = two();
    s = chatReducer(s, {
      type: "joined",
      after: 2,
      ack: {
        channel: "general",
        messages: [{ ...msg("general", 1), rev: 5, text: "fixed", edited_at: "x" }, msg("general", 3), { ...msg("general", 4), rev: 6, pinned: true }],
        last_seq: 7,
        members: [],
      },
    });
    const g = s.byChannel.general!;
    expect(g.items.map((i) => [i.seq, i.text])).toEqual([
      [1, "fixed"],
      [2, "hello 2"],
      [3, "hello 3"],
      [4, "hello 4"],
    ]);
    expect(g.seq).toEqual({ last: 7, synced: 7, ahead: [] });
  });

  it("does not move past a catch-up that still needs REST pages until they are in", () => {
    let s = two();
    s = chatReducer(s, { type: "joined", after: 2, complete: false, ack: { channel: "general", messages: [msg("general", 3)], last_seq: 9, members: [] } });
    expect(s.byChannel.general!.seq).toEqual({ last: 9, synced: 2, ahead: [] });
    s = chatReducer(s, { type: "changes", channel: "general", messages: [{ ...msg("general", 2), rev: 9, text: "late edit" }], lastSeq: 9 });
    expect(s.byChannel.general!.seq).toEqual({ last: 9, synced: 9, ahead: [] });
    expect(at(s, 2).text).toBe("late edit");
  });

  it("does not insert a changed message older than the loaded window (that would leave a hole)", () => {
    let s = run(initialState("alice"), {
      type: "joined",
      ack: { channel: "general", messages: [msg("general", 51), msg("general", 52)], last_seq: 52, members: [] },
    });
    s = chatReducer(s, upd({ ...msg("general", 3), rev: 53, text: "old, edited" }, 53));
    expect(s.byChannel.general!.items.map((i) => i.seq)).toEqual([51, 52]);
    expect(s.byChannel.general!.seq.last).toBe(53);
  });

  it("keeps replies out of the timeline, in their thread, and counts each once on its root", () => {
    let s = two();
    const reply = (seq: number): Message => ({ ...msg("general", seq, "carol"), reply_to: "general-1" });
    s = chatReducer(s, { type: "message", message: reply(3), ack: true }); // our own send's ack
    s = chatReducer(s, { type: "message", message: reply(3) }); // and the live copy of it
    s = chatReducer(s, { type: "message", message: reply(4) });
    const g = s.byChannel.general!;
    expect(g.items.map((i) => i.seq)).toEqual([1, 2]);
    expect(at(s, 1).reply_count).toBe(2);
    expect(g.threads["general-1"]!.replies.map((r) => r.seq)).toEqual([3, 4]);
    expect(g.seq.last).toBe(4);
    // a reply's edit is not a new reply
    s = chatReducer(s, upd({ ...reply(3), rev: 5, text: "edited reply" }, 5));
    expect(at(s, 1).reply_count).toBe(2);
    expect(s.byChannel.general!.threads["general-1"]!.replies[0]!.text).toBe("edited reply");
  });

  it("keeps a root's reply count through a change, whose copy comes without one", () => {
    let s = chatReducer(two(), { type: "message", message: { ...msg("general", 3, "carol"), reply_to: "general-1" } });
    expect(at(s, 1).reply_count).toBe(1);
    s = chatReducer(s, upd({ ...msg("general", 1), rev: 4, reactions: [{ emoji: "🐂", count: 1, users: ["bob"] }] }, 4));
    s = chatReducer(s, upd({ ...msg("general", 1), rev: 5, text: "", deleted: true }, 5));
    expect(at(s, 1).deleted).toBe(true);
    expect(at(s, 1).reply_count).toBe(1);
    s = chatReducer(s, { type: "message", message: { ...msg("general", 6, "dave"), reply_to: "general-1" } });
    expect(at(s, 1).reply_count).toBe(2);
  });

  it("does not count a reply its root's folded count already includes", () => {
    let s = two();
    // the root arrives changed (a reaction at seq 6), its count then covering replies up to 6
    s = chatReducer(s, upd({ ...msg("general", 1), rev: 6, reply_count: 2 }, 6));
    s = chatReducer(s, {
      type: "changes",
      channel: "general",
      messages: [
        { ...msg("general", 4, "carol"), reply_to: "general-1" },
        { ...msg("general", 7, "carol"), reply_to: "general-1" },
      ],
    });
    expect(at(s, 1).reply_count).toBe(3);
  });

  it("loads a thread without counting its replies again, then keeps it live", () => {
    let s = run(two(), { type: "updated", channel: "general", seq: 5, message: { ...msg("general", 1), rev: 5, reply_count: 2 } });
    s = chatReducer(s, {
      type: "thread_loaded",
      channel: "general",
      root: at(s, 1),
      replies: [
        { ...msg("general", 3, "carol"), reply_to: "general-1" },
        { ...msg("general", 4, "dave"), reply_to: "general-1" },
      ],
    });
    expect(at(s, 1).reply_count).toBe(2);
    s = chatReducer(s, { type: "message", message: { ...msg("general", 6, "erin"), reply_to: "general-1" } });
    const t = threadOf(s.byChannel.general!, "general-1");
    expect(t.loaded).toBe(true);
    expect(t.root!.reply_count).toBe(3);
    expect(t.replies.map((r) => r.user)).toEqual(["carol", "dave", "erin"]);
  });

  it("keeps the pins list current with pin, unpin, deletes and catch-ups", () => {
    let s = chatReducer(two(), { type: "pins_loaded", channel: "general", messages: [{ ...msg("general", 2), pinned: true }] });
    const pins = () => s.byChannel.general!.pins!.map((p) => p.seq);
    expect(pins()).toEqual([2]);
    s = chatReducer(s, upd({ ...msg("general", 1), rev: 3, pinned: true }, 3));
    expect(pins()).toEqual([1, 2]);
    s = chatReducer(s, upd({ ...msg("general", 1), rev: 4, pinned: true, text: "edited while pinned" }, 4));
    expect(s.byChannel.general!.pins![0]!.text).toBe("edited while pinned");
    s = chatReducer(s, upd({ ...msg("general", 2), rev: 5, pinned: false }, 5));
    expect(pins()).toEqual([1]);
    s = chatReducer(s, { type: "changes", channel: "general", messages: [{ ...msg("general", 1), rev: 6, deleted: true, text: "" }], lastSeq: 6 });
    expect(pins()).toEqual([]);
  });
});

describe("read state from the server", () => {
  const listed = () =>
    run(
      initialState("alice"),
      { type: "channels_loaded", channels: [myChannel("general", 1), myChannel("desk", 9, { read_seq: 4, unread: 3, mentions: 1 })] },
      { type: "select", channel: "general" },
      { type: "joined", ack: { channel: "general", messages: [msg("general", 1)], last_seq: 1, members: [] } },
    );
  const mentioning = (channel: string, seq: number, user = "bob"): Message => ({ ...msg(channel, seq, user), text: "@alice", mentions: ["alice"] });

  it("shows the list's counts, raised by live messages of others and mentions of me, never by mine", () => {
    let s = listed();
    expect(unreadFor(s, "desk")).toEqual({ count: 3, mentions: 1 });
    s = run(
      s,
      { type: "joined", ack: { channel: "desk", messages: [msg("desk", 8), msg("desk", 9)], last_seq: 9, members: [] } },
      { type: "message", message: msg("desk", 9) }, // seen twice, counted once (and in the list's count)
      { type: "message", message: mentioning("desk", 10) },
      { type: "message", message: mentioning("desk", 11, "alice") },
      { type: "message", message: { ...msg("desk", 12, "carol"), mentions: ["@here"] } },
    );
    expect(unreadFor(s, "desk")).toEqual({ count: 5, mentions: 3 });
  });

  it("opens a channel at its line of new messages, reads it, and keeps the line until another is opened", () => {
    let s = run(listed(), { type: "select", channel: "desk" });
    expect(s.newAfter).toBe(4);
    expect(s.read.desk!.seq).toBe(4); // not joined yet: nothing seen
    s = chatReducer(s, { type: "joined", ack: { channel: "desk", messages: [msg("desk", 5), msg("desk", 9)], last_seq: 9, members: [] } });
    expect(s.read.desk).toMatchObject({ seq: 9, stored: 4 });
    expect(s.newAfter).toBe(4);
    s = run(s, { type: "select", channel: "general" }, { type: "select", channel: "desk" });
    expect(s.newAfter).toBeNull();
  });

  it("moves the mark when another device read (read_state), and never back", () => {
    let s = chatReducer(listed(), { type: "read_state", channel: "desk", seq: 9 });
    expect(unreadFor(s, "desk")).toEqual({ count: 0, mentions: 0 });
    expect(s.read.desk).toMatchObject({ seq: 9, stored: 9 });
    expect(chatReducer(s, { type: "read_state", channel: "desk", seq: 5 })).toBe(s);
    s = chatReducer(s, { type: "message", message: msg("desk", 10) });
    expect(unreadFor(s, "desk").count).toBe(1);
    expect(chatReducer(s, { type: "read_state", channel: "nowhere", seq: 5 })).toBe(s);
  });

  it("keeps a mark this device moved further than a list fetched after (a read still on its way)", () => {
    let s = run(listed(), { type: "select", channel: "desk" }, {
      type: "joined",
      ack: { channel: "desk", messages: [msg("desk", 9)], last_seq: 9, members: [] },
    });
    s = chatReducer(s, { type: "channels_loaded", channels: [myChannel("desk", 9, { read_seq: 4, unread: 3 })] });
    expect(s.read.desk).toMatchObject({ seq: 9, stored: 4 });
  });

  it("does not read the open channel while the page is hidden, and marks what came when it is back", () => {
    let s = run(listed(), { type: "visibility", visible: false }, { type: "message", message: msg("general", 2) });
    expect(s.read.general!.seq).toBe(1);
    expect(unreadFor(s, "general").count).toBe(1);
    s = chatReducer(s, { type: "visibility", visible: true });
    expect(s.read.general!.seq).toBe(2);
    expect(s.newAfter).toBe(1);
    expect(unreadFor(s, "general").count).toBe(0);
  });

  it("raises a channel's counts from a notification when its message is not held, once", () => {
    const n: ChatNotification = { id: "n1", kind: "mention", channel: "desk", text: "bob mentioned you in #desk", ts: "", message: mentioning("desk", 10) };
    let s = chatReducer(listed(), { type: "notification", notification: n });
    expect(unreadFor(s, "desk")).toEqual({ count: 4, mentions: 2 });
    s = chatReducer(s, { type: "joined", ack: { channel: "desk", messages: [mentioning("desk", 10)], last_seq: 10, members: [] } });
    expect(unreadFor(s, "desk")).toEqual({ count: 4, mentions: 2 });
    expect(chatReducer(s, { type: "notification", notification: n })).toBe(s);
  });
});

describe("the inbox", () => {
  const note = (id: string, channel = "desk"): ChatNotification => ({ id, kind: "keyword", channel, text: `note ${id}`, ts: "" });
  const ids = (s: ChatState) => s.inbox.items.map((n) => n.id);

  it("counts live notifications unseen until it is opened, and none while it is open", () => {
    let s = run(base(), { type: "notification", notification: note("03") }, { type: "notification", notification: note("04") });
    expect(s.inbox.unseen).toBe(2);
    expect(ids(s)).toEqual(["04", "03"]);
    s = chatReducer(s, { type: "inbox_open", open: true });
    expect(s.inbox.unseen).toBe(0);
    s = chatReducer(s, { type: "notification", notification: note("05") });
    expect(s.inbox.unseen).toBe(0);
    s = run(s, { type: "visibility", visible: false }, { type: "notification", notification: note("06") });
    expect(s.inbox.unseen).toBe(1); // open, but nobody is looking
    s = run(s, { type: "visibility", visible: true });
    expect(s.inbox.unseen).toBe(0);
  });

  it("does not count one about the channel being read", () => {
    const s = chatReducer(base(), { type: "notification", notification: note("07", "general") });
    expect(s.inbox.unseen).toBe(0);
    expect(ids(s)).toEqual(["07"]);
  });

  it("merges pages with live ones by id, newest first, and pages on from next_before", () => {
    let s = chatReducer(base(), { type: "notification", notification: note("09") });
    s = chatReducer(s, { type: "inbox_loaded", notifications: [note("09"), note("08"), note("05")], nextBefore: "05", more: false });
    expect(ids(s)).toEqual(["09", "08", "05"]);
    s = chatReducer(s, { type: "inbox_loaded", notifications: [note("04"), note("02")], nextBefore: null, more: true });
    expect(ids(s)).toEqual(["09", "08", "05", "04", "02"]);
    expect(s.inbox.nextBefore).toBeNull();
    // the first page again (a reconnect) keeps the older pages and where they end
    s = chatReducer(s, { type: "inbox_loaded", notifications: [note("10"), note("09")], nextBefore: "09", more: false });
    expect(ids(s)).toEqual(["10", "09", "08", "05", "04", "02"]);
    expect(s.inbox.nextBefore).toBeNull();
    expect(s.inbox.unseen).toBe(1);
  });
});
