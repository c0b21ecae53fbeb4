import { describe, expect, it } from "vitest";
import { caughtUp, classifyEvent, emptyTrack, observe, type SeqTrack } from "./seqTrack";

const track = (last: number, synced = last, ahead: number[] = []): SeqTrack => ({ last, synced, ahead });

describe("seq tracking over messages and changes together", () => {
  it("takes the first seq seen as its start", () => {
    expect(classifyEvent(emptyTrack(), 42)).toBe("next");
    expect(observe(emptyTrack(), 42)).toEqual(track(42));
  });

  it("counts a change's seq like a message's: no gap when a message follows an edit", () => {
    let t = track(10);
    t = observe(t, 11); // message 11
    expect(classifyEvent(t, 12)).toBe("next"); // message_updated with seq 12
    t = observe(t, 12);
    expect(classifyEvent(t, 13)).toBe("next"); // message 13
    t = observe(t, 13);
    expect(t).toEqual(track(13));
  });

  it("sees a gap when a seq jumps past the highest seen, over either event kind", () => {
    const t = track(10);
    expect(classifyEvent(t, 12)).toBe("gap");
    expect(classifyEvent(t, 10)).toBe("duplicate");
    expect(classifyEvent(t, 7)).toBe("duplicate");
  });

  it("keeps `synced` at the first hole and closes it when the late one arrives", () => {
    let t = observe(track(10), 12);
    expect(t).toEqual(track(12, 10, [12]));
    t = observe(t, 14);
    expect(t).toEqual(track(14, 10, [12, 14]));
    t = observe(t, 11);
    expect(t).toEqual(track(14, 12, [14]));
    expect(observe(t, 12)).toBe(t);
    expect(observe(t, 9)).toBe(t);
  });

  it("moves to the catch-up's last_seq, keeping live seqs seen past it", () => {
    const t = observe(observe(track(10), 13), 20);
    const after = caughtUp(t, 15);
    expect(after).toEqual(track(20, 15, [20]));
    expect(caughtUp(after, 12)).toBe(after);
    expect(caughtUp(observe(track(10), 16), 15)).toEqual(track(16));
  });
});
