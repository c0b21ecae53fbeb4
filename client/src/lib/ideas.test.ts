import { describe, expect, it } from "vitest";
import { ideaBar, ideaReturn } from "./ideas";
import type { Idea } from "./types";

const idea = (over: Partial<Idea> = {}): Idea => ({
  id: "i1",
  author: "alice",
  channel: "desk",
  side: "long",
  symbol: "AAPL.US",
  currency: "USD",
  entry: "100.00",
  target: "110.00",
  stop: "95.00",
  opened_at: "2026-03-02T14:00:00Z",
  expires_at: "2026-03-07T14:00:00Z",
  status: "open",
  ...over,
});

describe("ideaReturn", () => {
  it("earns a long's rise and a short's fall, exactly, to two places", () => {
    expect(ideaReturn("long", "93.42", "95.00")).toBe("1.69");
    expect(ideaReturn("short", "93.42", "95.00")).toBe("-1.69");
    expect(ideaReturn("short", "93.42", "90.00")).toBe("3.66");
    expect(ideaReturn("long", "100", "100.00")).toBe("0.00");
    expect(ideaReturn("short", "100", "100.00")).toBe("0.00");
  });

  it("works in pence, index points and crypto's eight places without float drift", () => {
    // 0.1 + 0.2 style traps: 72.10 GBX to 72.30 is +0.277..% -> 0.28.
    expect(ideaReturn("long", "72.10", "72.30")).toBe("0.28");
    expect(ideaReturn("short", "5123.45", "5000.12")).toBe("2.41");
    expect(ideaReturn("long", "0.00001234", "0.00001357")).toBe("9.97");
    expect(ideaReturn("long", "abc", "1")).toBeNull();
  });
});

describe("ideaBar", () => {
  it("lays stop, entry, now and target out from the lowest price to the highest", () => {
    const bar = ideaBar(idea(), "105.00");
    const at = Object.fromEntries(bar.marks.map((m) => [m.kind, m.at]));
    expect(at).toEqual({ stop: 0, entry: (5 / 15) * 100, target: 100, now: (10 / 15) * 100 });
    expect(bar.loss).toEqual({ from: 0, to: (5 / 15) * 100 });
    expect(bar.gain).toEqual({ from: (5 / 15) * 100, to: 100 });
  });

  it("puts a short's target below its entry, and the exit in place of the price once closed", () => {
    const bar = ideaBar(idea({ side: "short", target: "90.00", stop: "105.00", status: "target_hit", exit: "89.50" }), "200.00");
    const kinds = [...bar.marks].sort((a, b) => a.at - b.at).map((m) => m.kind);
    expect(kinds).toEqual(["exit", "target", "entry", "stop"]);
  });

  it("draws an idea without levels as its entry in the middle", () => {
    const bar = ideaBar(idea({ target: null, stop: null }), null);
    expect(bar.marks).toEqual([{ kind: "entry", price: "100.00", at: 50 }]);
    expect(bar.loss).toBeNull();
  });
});
