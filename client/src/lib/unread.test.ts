import { describe, expect, it } from "vitest";
import { toItem, type TimelineItem } from "./messages";
import type { ChatNotification, Message, MyChannel } from "./types";
import { fromServer, moveMark, noteNotification, unreadBadge, unreadFromStart, unreadOf, type ReadState, type Timeline } from "./unread";

const m = (seq: number, user = "bob", extra: Partial<Message> = {}): TimelineItem =>
  toItem({ id: `m${seq}`, channel: "desk", seq, user, text: "x", ts: "2026-11-28T09:00:00Z", ...extra }, seq);
const timeline = (...items: TimelineItem[]): Timeline => ({ items, threads: {} });
const listed = (over: Partial<MyChannel> = {}): MyChannel => ({
  name: "desk",
  created_by: "bob",
  created_at: "",
  last_seq: 10,
  read_seq: 6,
  unread: 3,
  mentions: 1,
  ...over,
});
const note = (seq: number, kind: ChatNotification["kind"] = "mention", user = "bob"): ChatNotification => ({
  id: `n${seq}`,
  kind,
  channel: "desk",
  text: "bob mentioned you in #desk",
  ts: "",
  message: { id: `m${seq}`, channel: "desk", seq, user, text: "@alice", ts: "", mentions: ["alice"] },
});

describe("unreadOf", () => {
  it("takes the server's counts, and adds messages by others held after what they cover", () => {
    const r = fromServer(listed(), undefined, undefined, "alice");
    expect(unreadOf(r, undefined, "alice")).toEqual({ count: 3, mentions: 1 });
    const t = timeline(m(9), m(10), m(11), m(12, "alice"), m(13, "carol", { mentions: ["@here"] }), m(14, "dave", { deleted: true }));
    // 9 and 10 are in the server's count already; 12 is mine; a deleted one is not news.
    expect(unreadOf(r, t, "alice")).toEqual({ count: 5, mentions: 2 });
  });

  it("counts thread replies and never ephemeral messages or channel events", () => {
    const r = unreadFromStart();
    const t: Timeline = {
      items: [m(1), { ...m(2), event: { seq: 2, channel: "desk", kind: "muted", by: "bob", ts: "" } }],
      threads: { m1: { replies: [m(3, "carol", { reply_to: "m1", mentions: ["alice"] })] } },
    };
    expect(unreadOf(r, t, "alice")).toEqual({ count: 2, mentions: 1 });
    expect(unreadOf(undefined, t, "alice")).toEqual({ count: 0, mentions: 0 });
  });

  it("adds what notifications told of that is not held (a channel not joined), once", () => {
    let r = fromServer(listed({ unread: 0, mentions: 0, read_seq: 10 }), undefined, undefined, "alice");
    r = noteNotification(r, note(12), "alice");
    r = noteNotification(r, note(13, "keyword"), "alice");
    expect(noteNotification(r, note(12), "alice")).toBe(r);
    expect(noteNotification(r, note(9), "alice")).toBe(r); // in the server's counts already
    expect(noteNotification(r, note(15, "mention", "ALICE"), "alice")).toBe(r);
    expect(unreadOf(r, undefined, "alice")).toEqual({ count: 2, mentions: 1 });
    // The message itself arrives too (the channel was joined): still one each.
    expect(unreadOf(r, timeline(m(12, "bob", { mentions: ["alice"] })), "alice")).toEqual({ count: 2, mentions: 1 });
  });
});

describe("moveMark", () => {
  it("moves forward only; past what the counts cover, nothing before is unread", () => {
    const r = fromServer(listed(), undefined, undefined, "alice");
    expect(moveMark(r, 5, undefined, "alice")).toBe(r);
    const read = moveMark(noteNotification(r, note(12), "alice"), 12, undefined, "alice");
    expect(read).toMatchObject({ seq: 12, stored: 6, unread: 0, mentions: 0, noted: {} });
    expect(unreadOf(read, undefined, "alice")).toEqual({ count: 0, mentions: 0 });
  });

  it("takes off the counts what the held messages say was read when the mark stops short of them", () => {
    const r = fromServer(listed(), undefined, undefined, "alice");
    const t = timeline(m(7, "bob", { mentions: ["alice"] }), m(8, "alice"), m(9), m(10));
    const part = moveMark(r, 8, t, "alice");
    expect(part).toMatchObject({ seq: 8, unread: 2, mentions: 0 });
    expect(unreadOf(part, t, "alice")).toEqual({ count: 2, mentions: 0 });
  });
});

describe("fromServer", () => {
  it("keeps a mark this device holds further on, and live notes past the new counts", () => {
    const held: ReadState = { ...unreadFromStart(), seq: 9, stored: 6, noted: { m11: { seq: 11, mention: true }, m8: { seq: 8, mention: true } } };
    const t = timeline(m(7), m(8), m(9), m(10, "bob", { mentions: ["alice"] }));
    const r = fromServer(listed({ unread: 4 }), held, t, "alice");
    expect(r).toMatchObject({ seq: 9, stored: 6, counted: 10, unread: 1, mentions: 1, noted: { m11: { seq: 11, mention: true } } });
    expect(unreadOf(r, t, "alice")).toEqual({ count: 2, mentions: 2 });
  });
});

describe("unreadBadge", () => {
  it("is empty for zero and caps at 99+", () => {
    expect(unreadBadge(0)).toBe("");
    expect(unreadBadge(7)).toBe("7");
    expect(unreadBadge(120)).toBe("99+");
  });
});
