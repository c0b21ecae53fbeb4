import { describe, expect, it } from "vitest";
import { chatReducer, initialState } from "./chatState";
import { unreadFor } from "./readMarks";
import { backgroundJoins, joinBackoffMs, JoinQueue, usableChannelName, type JoinOutcome } from "./joinPlan";
import type { Channel } from "./types";

const channel = (name: string, created_by = "someone"): Channel => ({ name, created_by, created_at: "" });
const flush = () => new Promise((r) => setTimeout(r, 0));

/** Timers the test fires by hand. */
class Timers {
  waiting: Array<{ fn: () => void; ms: number; id: number }> = [];
  private next = 1;
  set = (fn: () => void, ms: number) => {
    const id = this.next++;
    this.waiting.push({ fn, ms, id });
    return id;
  };
  clear = (id: unknown) => {
    this.waiting = this.waiting.filter((t) => t.id !== id);
  };
  fireAll() {
    const due = this.waiting.splice(0);
    for (const t of due) t.fn();
  }
}

describe("backgroundJoins", () => {
  it("takes channels with messages read on this device first, never the open one, at most max", () => {
    const names = ["a", "b", "c", "d", "spam-1", "spam-2"];
    const marks = { a: 5, b: 0, c: 2, d: 9, "spam-1": 0 };
    expect(backgroundJoins(names, "d", marks, 2)).toEqual(["a", "c"]);
    expect(backgroundJoins(names, "d", marks, 4)).toEqual(["a", "c", "b", "spam-1"]);
    expect(backgroundJoins(names, null, marks, 3)).toEqual(["a", "c", "d"]);
    expect(backgroundJoins(names, "a", marks)).toEqual(["c", "d", "b", "spam-1", "spam-2"]);
  });

  it("is not fooled by names every object answers in the read marks", () => {
    expect(backgroundJoins(["constructor", "x"], null, {}, 1)).toEqual(["constructor"]);
    expect(backgroundJoins(["a", "x"], null, { x: 1 }, 1)).toEqual(["x"]);
  });
});

describe("JoinQueue", () => {
  function queue(outcomes: (channel: string) => JoinOutcome, concurrency = 2) {
    const started: string[] = [];
    const timers = new Timers();
    const release = new Map<string, () => void>();
    const q = new JoinQueue(
      (ch) =>
        new Promise<JoinOutcome>((resolve) => {
          started.push(ch);
          release.set(ch, () => resolve(outcomes(ch)));
        }),
      { concurrency, random: () => 0, setTimer: timers.set, clearTimer: timers.clear },
    );
    const finish = async (ch: string) => {
      release.get(ch)!();
      await flush();
    };
    return { q, started, timers, finish };
  }

  it("runs a few joins at a time and the urgent one first", async () => {
    const { q, started, finish } = queue(() => "ok");
    for (const name of ["a", "b", "c", "d"]) q.request(name);
    q.request("open-me", true);
    expect(started).toEqual(["a", "b"]);
    await finish("a");
    expect(started).toEqual(["a", "b", "open-me"]);
    await finish("b");
    await finish("open-me");
    expect(started).toEqual(["a", "b", "open-me", "c", "d"]);
  });

  it("asks again after a growing pause when refused, and stops once joined", async () => {
    let refusals = 2;
    const { q, started, timers, finish } = queue(() => (refusals-- > 0 ? "retry" : "ok"), 1);
    q.request("busy");
    await finish("busy");
    expect(timers.waiting.map((t) => t.ms)).toEqual([1_000]);
    q.request("busy"); // asked again meanwhile (a reconnect, say): still one retry, not two joins
    expect(started).toEqual(["busy"]);
    timers.fireAll();
    await finish("busy");
    expect(timers.waiting.map((t) => t.ms)).toEqual([2_000]);
    timers.fireAll();
    await finish("busy");
    expect(started).toEqual(["busy", "busy", "busy"]);
    expect(timers.waiting).toEqual([]);
    expect(q.pending()).toEqual([]);
  });

  it("opening a channel waiting for its retry joins it now", async () => {
    const { q, started, timers, finish } = queue(() => "retry", 1);
    q.request("x");
    await finish("x");
    expect(timers.waiting).toHaveLength(1);
    q.request("x", true);
    expect(timers.waiting).toHaveLength(0);
    expect(started).toEqual(["x", "x"]);
  });

  it("forgets a deleted channel and everything on clear", async () => {
    const { q, started, timers, finish } = queue(() => "retry", 1);
    q.request("a");
    q.request("b");
    q.forget("b");
    await finish("a");
    expect(started).toEqual(["a"]);
    expect(timers.waiting).toHaveLength(1);
    q.clear();
    expect(timers.waiting).toHaveLength(0);
    expect(q.pending()).toEqual([]);
  });

  it("backs off by doubling up to the cap, spread by up to a quarter", () => {
    expect([1, 2, 3, 6, 9].map((n) => joinBackoffMs(n, 1_000, 30_000, 0))).toEqual([1_000, 2_000, 4_000, 30_000, 30_000]);
    expect(joinBackoffMs(1, 1_000, 30_000, 1)).toBe(1_250);
  });
});

describe("channel list", () => {
  it("leaves out names every object answers, so the client keeps working", () => {
    expect(usableChannelName("__proto__")).toBe(false);
    expect(usableChannelName("constructor")).toBe(false);
    expect(usableChannelName("general")).toBe(true);
    let state = chatReducer(initialState("alice"), {
      type: "channels_loaded",
      channels: [channel("__proto__"), channel("constructor"), channel("general")],
    });
    state = chatReducer(state, { type: "channel_created", channel: channel("__proto__") });
    state = chatReducer(state, { type: "select", channel: "general" });
    state = chatReducer(state, {
      type: "joined",
      ack: { channel: "general", messages: [], last_seq: 0, members: ["alice"] },
    });
    expect(state.channels.map((c) => c.name)).toEqual(["general"]);
    expect(state.byChannel.general?.joined).toBe(true);
    expect(unreadFor(state, "general")).toEqual({ count: 0, mentions: 0 });
  });

  it("drops a deleted channel, and opens general when it was the open one", () => {
    let state = chatReducer(initialState("alice"), {
      type: "channels_loaded",
      channels: [channel("general"), channel("spam")],
    });
    state = chatReducer(state, { type: "select", channel: "spam" });
    state = chatReducer(state, { type: "channel_deleted", name: "spam" });
    expect(state.channels.map((c) => c.name)).toEqual(["general"]);
    expect(state.current).toBe("general");
    expect("spam" in state.byChannel).toBe(false);
    expect(chatReducer(state, { type: "channel_deleted", name: "spam" })).toBe(state);
  });
});
