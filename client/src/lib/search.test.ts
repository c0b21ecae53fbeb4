import { describe, expect, it, vi } from "vitest";
import { emptyChannel, type ChannelState } from "./channelState";
import type { ChatState } from "./chatState";
import { toItem, type TimelineItem } from "./messages";
import { appendHits, markMatches, parseQuery, resolveChannel, revealMessage, termsOf, type TimelineSource } from "./search";
import type { Channel, Message } from "./types";

const msg = (seq: number, over: Partial<Message> = {}): Message => ({
  id: `m${seq}`,
  channel: "general",
  seq,
  user: "carol",
  text: `line ${seq}`,
  ts: "2026-03-02T14:00:00Z",
  ...over,
});

const marked = (text: string, q: string) =>
  markMatches(text, termsOf(q))
    .filter((s) => s.hit)
    .map((s) => s.text);

describe("parseQuery", () => {
  it("takes in: and from: out of the words, with or without # and @, the last of each winning", () => {
    expect(parseQuery("  deal in:#Desk   from:@alice $TSLA ")).toEqual({ q: "deal $TSLA", in: "Desk", from: "alice" });
    expect(parseQuery("in:general from:bob in:desk")).toEqual({ q: "", in: "desk", from: "bob" });
    expect(parseQuery("IN:@bob hi")).toEqual({ q: "hi", in: "@bob" });
  });

  it("leaves an empty filter, and words merely containing a colon, as words", () => {
    expect(parseQuery("in: ratio 3:1 from:")).toEqual({ q: "in: ratio 3:1 from:" });
  });
});

describe("resolveChannel", () => {
  const channels: Channel[] = [
    { name: "general", created_by: "system", created_at: "" },
    { name: "Desk", created_by: "bob", created_at: "", visibility: "private" },
    { name: "dm-1", created_by: "bob", created_at: "", kind: "dm", members: ["alice", "Bob"] },
    { name: "dm-2", created_by: "alice", created_at: "", kind: "dm", members: ["alice", "carol"] },
  ];
  const chat = { channels, me: "alice" };

  it("finds a channel by name in any case, and a DM by the other person", () => {
    expect(resolveChannel("desk", chat)).toBe("Desk");
    expect(resolveChannel("@bob", chat)).toBe("dm-1");
    expect(resolveChannel("@CAROL", chat)).toBe("dm-2");
  });

  it("finds nothing for a channel one cannot see, nor for oneself without a DM with oneself", () => {
    expect(resolveChannel("secret", chat)).toBeUndefined();
    expect(resolveChannel("@alice", chat)).toBeUndefined();
  });
});

describe("markMatches", () => {
  it("marks whole words as the server folds them: any case, accents and apostrophes dropped", () => {
    expect(marked("Café au lait? CAFE! cafeteria", "cafe")).toEqual(["Café", "CAFE"]);
    expect(marked("I don't know, dont ask", "don’t")).toEqual(["don't", "dont"]);
    expect(marked("Earnings beat; earnings-call at 5", "earnings call")).toEqual(["Earnings", "earnings", "call"]);
  });

  it("marks a queried cashtag with its $, and not another one", () => {
    expect(marked("long $tsla, short $TSLAQ and $AAPL", "$TSLA")).toEqual(["$tsla"]);
    expect(marked("$BRK.B is up", "$brk.b up")).toEqual(["$BRK.B", "up"]);
  });

  it("gives the text back whole, in order, and nothing marked when nothing matches", () => {
    const text = "<b>bold</b> move & more";
    const parts = markMatches(text, termsOf("bold more"));
    expect(parts.map((p) => p.text).join("")).toBe(text);
    expect(parts.filter((p) => p.hit).map((p) => p.text)).toEqual(["bold", "more"]);
    expect(markMatches("nothing here", termsOf("else"))).toEqual([{ text: "nothing here", hit: false }]);
  });

  it("reads filters' words as no terms", () => {
    expect(termsOf(parseQuery("in:#desk from:@bob rates").q).words).toEqual(new Set(["rates"]));
  });
});

describe("appendHits", () => {
  it("adds a later page's messages once each", () => {
    expect(appendHits([msg(9), msg(8)], [msg(8), msg(7)]).map((m) => m.id)).toEqual(["m9", "m8", "m7"]);
  });
});

/**
 * A ChatClient's timeline side: a channel of seqs 1..last whose join brings the newest 50 and each
 * older page 50 more (state built by hand, so these tests stand apart from the reducer's).
 */
function fakeChannel(last: number, { joinedAtStart = true } = {}) {
  let channel: ChannelState | undefined;
  const listeners = new Set<() => void>();
  const range = (from: number, to: number) => {
    const items: TimelineItem[] = [];
    for (let s = Math.max(1, from); s <= to; s++) items.push(toItem({ ...msg(s), seq: s }));
    return items;
  };
  const set = (items: TimelineItem[]) => {
    channel = { ...emptyChannel(), joined: true, items, hasMore: items[0]!.seq! > 1 };
    for (const fn of listeners) fn();
  };
  const join = () => set(range(last - 49, last));
  if (joinedAtStart) join();
  const source: TimelineSource & { join: () => void } = {
    getSnapshot: () => ({ chat: { byChannel: channel ? { general: channel } : {} } as unknown as ChatState }),
    subscribe: (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    loadOlder: vi.fn(() => {
      const first = channel!.items[0]!.seq!;
      set([...range(first - 50, first - 1), ...channel!.items]);
      return Promise.resolve();
    }),
    join,
  };
  return source;
}

describe("revealMessage", () => {
  it("finds a message already loaded without asking for more", async () => {
    const source = fakeChannel(100);
    expect(await revealMessage(source, msg(80))).toEqual({ outcome: "found", id: "m80" });
    expect(source.loadOlder).not.toHaveBeenCalled();
  });

  it("loads older pages until the message is in the timeline, telling each page", async () => {
    const source = fakeChannel(300);
    const pages: number[] = [];
    expect(await revealMessage(source, msg(120), { onPage: (n) => pages.push(n) })).toEqual({ outcome: "found", id: "m120" });
    expect(pages).toEqual([1, 2, 3]);
  });

  it("stops at the page cap and says the message is too far back", async () => {
    const source = fakeChannel(300);
    expect(await revealMessage(source, msg(5), { maxPages: 2 })).toEqual({ outcome: "too_far" });
    expect(source.loadOlder).toHaveBeenCalledTimes(2);
  });

  it("says missing once the pages reach past where the message was (deleted since)", async () => {
    const source = fakeChannel(100);
    expect(await revealMessage(source, msg(20, { id: "gone" }))).toEqual({ outcome: "missing" });
    expect(source.loadOlder).toHaveBeenCalledTimes(1);
  });

  it("looks for a reply's thread root, older than the reply", async () => {
    const source = fakeChannel(200);
    expect(await revealMessage(source, msg(190, { id: "r1", reply_to: "m40" }))).toEqual({ outcome: "found", id: "m40" });
    expect(source.loadOlder).toHaveBeenCalledTimes(3);
  });

  it("waits for the channel's join, and gives up on one that never comes", async () => {
    const source = fakeChannel(100, { joinedAtStart: false });
    const waiting = revealMessage(source, msg(90));
    source.join();
    expect(await waiting).toEqual({ outcome: "found", id: "m90" });
    const never = fakeChannel(100, { joinedAtStart: false });
    expect(await revealMessage(never, msg(90), { joinTimeoutMs: 10 })).toEqual({ outcome: "failed", error: "Could not open #general." });
  });

  it("stops paging when told to", async () => {
    const source = fakeChannel(300);
    const stop = new AbortController();
    const cancelled = revealMessage(source, msg(5), { onPage: (n) => n === 2 && stop.abort(), signal: stop.signal });
    expect(await cancelled).toEqual({ outcome: "cancelled" });
    expect(source.loadOlder).toHaveBeenCalledTimes(2);
  });

  it("says why when an older page does not load", async () => {
    const source = fakeChannel(100);
    vi.mocked(source.loadOlder).mockRejectedValueOnce(new Error("Server answered 500"));
    expect(await revealMessage(source, msg(10))).toEqual({ outcome: "failed", error: "Server answered 500" });
  });
});
