import { describe, expect, it } from "vitest";
import { countUnread, loadReadMarks, markRead, saveReadMarks, unreadBadge } from "./unread";
import type { Message } from "./types";

const m = (seq: number | undefined, user: string, extra: Partial<Message> = {}): Message => ({
  channel: "general",
  seq,
  user,
  text: "x",
  ts: "2026-11-28T09:00:00Z",
  ...extra,
});

describe("countUnread", () => {
  it("counts others' messages after the read mark", () => {
    const msgs = [m(1, "bob"), m(2, "bob"), m(3, "carol"), m(4, "bob")];
    expect(countUnread(msgs, 2, "alice")).toBe(2);
    expect(countUnread(msgs, undefined, "alice")).toBe(4);
  });
  it("never counts my own messages, whatever the case of my name", () => {
    expect(countUnread([m(1, "Alice"), m(2, "bob")], 0, "alice")).toBe(1);
  });
  it("never counts ephemeral or seq-less messages", () => {
    expect(countUnread([m(undefined, "StockBot", { ephemeral: true }), m(3, "StockBot", { ephemeral: true })], 0, "me")).toBe(0);
  });
  it("counts bot replies like anyone else's", () => {
    expect(countUnread([m(5, "StockBot", { bot: true })], 4, "me")).toBe(1);
  });
});

describe("markRead", () => {
  it("moves forward only, and returns the same object when unchanged", () => {
    const a = markRead({}, "general", 5);
    expect(a).toEqual({ general: 5 });
    expect(markRead(a, "general", 3)).toBe(a);
    expect(markRead(a, "general", 9)).toEqual({ general: 9 });
  });
});

describe("unreadBadge", () => {
  it("is empty for zero and caps at 99+", () => {
    expect(unreadBadge(0)).toBe("");
    expect(unreadBadge(7)).toBe("7");
    expect(unreadBadge(120)).toBe("99+");
  });
});

describe("read marks storage", () => {
  it("round-trips per user and survives garbage", () => {
    const mem = new Map<string, string>();
    const storage = { getItem: (k: string) => mem.get(k) ?? null, setItem: (k: string, v: string) => void mem.set(k, v) };
    saveReadMarks(storage, "Alice", { general: 3 });
    expect(loadReadMarks(storage, "alice")).toEqual({ general: 3 });
    expect(loadReadMarks(storage, "bob")).toEqual({});
    mem.set("investor-chat.read.carol", "{not json");
    expect(loadReadMarks(storage, "carol")).toEqual({});
    expect(loadReadMarks(undefined, "x")).toEqual({});
  });
});
