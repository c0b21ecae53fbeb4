import { describe, expect, it } from "vitest";
import { appendLocal, capItems, classifySeq, contiguousSeqOf, lastSeqOf, mergeMessages, type TimelineItem } from "./messages";
import type { Message } from "./types";

const msg = (seq: number, user = "alice", text = `m${seq}`): Message => ({
  id: `id${seq}`,
  channel: "general",
  seq,
  user,
  text,
  ts: `2026-11-28T09:00:${String(seq % 60).padStart(2, "0")}.000Z`,
  bot: false,
});

const seqs = (items: TimelineItem[]) => items.map((i) => i.seq ?? `local:${i.text}`);

describe("mergeMessages", () => {
  it("orders by seq whatever the arrival order", () => {
    const out = mergeMessages([], [msg(3), msg(1), msg(2)]);
    expect(seqs(out)).toEqual([1, 2, 3]);
  });

  it("drops duplicates by seq, keeping the first copy", () => {
    const a = mergeMessages([], [msg(1), msg(2)]);
    const b = mergeMessages(a, [msg(2, "alice", "again"), msg(3)]);
    expect(seqs(b)).toEqual([1, 2, 3]);
    expect(b[1]!.text).toBe("m2");
  });

  it("returns the same array when nothing new arrives (cheap re-renders)", () => {
    const a = mergeMessages([], [msg(1)]);
    expect(mergeMessages(a, [msg(1)])).toBe(a);
  });

  it("appends a live message after the newest, keeping local items before it", () => {
    const a = appendLocal(mergeMessages([], [msg(1), msg(2)]), { ...msg(0), text: "/help" });
    const b = mergeMessages(a, [msg(3)]);
    expect(seqs(b)).toEqual([1, 2, "local:/help", 3]);
    expect(b.slice(0, 3)).toEqual(a);
  });

  it("prepends older history and fills gaps", () => {
    const live = mergeMessages([], [msg(51), msg(52), msg(55)]);
    const withOld = mergeMessages(live, [msg(1), msg(2)]);
    const filled = mergeMessages(withOld, [msg(53), msg(54)]);
    expect(seqs(filled)).toEqual([1, 2, 51, 52, 53, 54, 55]);
  });

  it("ignores messages without seq (they are appended with appendLocal)", () => {
    const out = mergeMessages([], [{ ...msg(1), seq: undefined }]);
    expect(out).toEqual([]);
  });

  it("replaces a held message by a newer rev of it, keeping its key and place", () => {
    const a = mergeMessages([], [msg(1), msg(2), msg(3)]);
    const b = mergeMessages(a, [{ ...msg(2, "alice", "edited"), rev: 7 }, msg(4)]);
    expect(seqs(b)).toEqual([1, 2, 3, 4]);
    expect(b[1]!.text).toBe("edited");
    expect(b[1]!.key).toBe("id2");
    expect(b[1]!.rev).toBe(7);
    // an older revision arriving late changes nothing
    expect(mergeMessages(b, [{ ...msg(2, "alice", "stale"), rev: 5 }])).toBe(b);
  });

  it("gives stored messages stable keys from id", () => {
    expect(mergeMessages([], [msg(7)])[0]!.key).toBe("id7");
  });
});

describe("appendLocal", () => {
  it("keeps ephemeral items after the message that was newest when they arrived", () => {
    let items = mergeMessages([], [msg(1), msg(2)]);
    items = appendLocal(items, { channel: "general", user: "StockBot", text: "only you", ts: "", bot: true, ephemeral: true });
    items = mergeMessages(items, [msg(3)]);
    expect(seqs(items)).toEqual([1, 2, "local:only you", 3]);
    expect(items[2]!.ephemeral).toBe(true);
  });

  it("keeps several locals in arrival order", () => {
    let items = mergeMessages([], [msg(1)]);
    items = appendLocal(items, { channel: "general", user: "me", text: "a", ts: "" });
    items = appendLocal(items, { channel: "general", user: "me", text: "b", ts: "" });
    items = mergeMessages(items, [msg(2)]);
    expect(seqs(items)).toEqual([1, "local:a", "local:b", 2]);
    expect(new Set(items.map((i) => i.key)).size).toBe(4);
  });

  it("does not count for lastSeqOf", () => {
    let items = mergeMessages([], [msg(4)]);
    items = appendLocal(items, { channel: "general", user: "StockBot", text: "x", ts: "" });
    expect(lastSeqOf(items)).toBe(4);
  });
});

describe("classifySeq", () => {
  it("detects the next message, duplicates and gaps", () => {
    expect(classifySeq(5, 6)).toBe("next");
    expect(classifySeq(5, 5)).toBe("duplicate");
    expect(classifySeq(5, 3)).toBe("duplicate");
    expect(classifySeq(5, 8)).toBe("gap");
  });
  it("treats anything as next for a channel with nothing loaded", () => {
    expect(classifySeq(0, 42)).toBe("next");
  });
});

describe("contiguousSeqOf", () => {
  const item = (seq?: number) => ({ id: `m${seq}`, channel: "c", user: "u", text: "", ts: "", seq, key: `k${seq}`, anchor: seq ?? 0 });
  it("ends at the first hole, ignoring local items", () => {
    expect(contiguousSeqOf([])).toBe(0);
    expect(contiguousSeqOf([item(11), item(12), item(undefined), item(13)])).toBe(13);
    expect(contiguousSeqOf([item(1), item(2), item(4), item(5)])).toBe(2);
  });
});

describe("capItems", () => {
  it("keeps the newest `cap` once past the cap and its slack, else the same array", () => {
    const items = mergeMessages([], Array.from({ length: 12 }, (_, i) => msg(i + 1)));
    expect(capItems(items, 10, 2)).toBe(items);
    const more = mergeMessages(items, [msg(13)]);
    expect(seqs(capItems(more, 10, 2))).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  });
});
