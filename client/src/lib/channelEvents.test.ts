import { describe, expect, it } from "vitest";
import { effectOnMe, eventItem, eventText } from "./channelEvents";
import { formatAsOf } from "./format";
import type { ChannelEvent } from "./types";

const ev = (over: Partial<ChannelEvent>): ChannelEvent => ({
  seq: 7,
  channel: "desk",
  kind: "member_added",
  by: "alice",
  ts: "2026-03-02T14:00:00Z",
  ...over,
});

describe("eventText", () => {
  it("reads each kind as a short sentence naming who did it to whom", () => {
    const now = new Date("2026-03-02T14:00:00Z");
    expect(eventText(ev({ kind: "member_added", target: "bob" }))).toBe("alice added bob");
    expect(eventText(ev({ kind: "member_added", target: "bob", role: "moderator" }))).toBe("alice added bob as moderator");
    expect(eventText(ev({ kind: "member_added", by: "bob", target: "bob" }))).toBe("bob joined");
    expect(eventText(ev({ kind: "member_removed", target: "bob" }))).toBe("alice removed bob");
    expect(eventText(ev({ kind: "member_removed", by: "Bob", target: "bob" }))).toBe("Bob left");
    expect(eventText(ev({ kind: "role_changed", target: "bob", role: "moderator" }))).toBe("alice made bob a moderator");
    expect(eventText(ev({ kind: "role_changed", target: "bob", role: "member" }))).toBe("alice made bob a member");
    expect(eventText(ev({ kind: "muted", target: "carol", until: "2026-03-02T14:05:00Z" }), now)).toBe(
      `alice muted carol until ${formatAsOf("2026-03-02T14:05:00Z", now)}`,
    );
    expect(eventText(ev({ kind: "unmuted", target: "carol" }))).toBe("alice unmuted carol");
    expect(eventText(ev({ kind: "banned", target: "carol", reason: "spam" }))).toBe("alice banned carol (spam)");
    expect(eventText(ev({ kind: "unbanned", target: "carol" }))).toBe("alice unbanned carol");
  });

  it("says what a settings change set: slow mode, the topic, or both", () => {
    expect(eventText(ev({ kind: "settings_changed", changes: { slow_mode_s: 30 } }))).toBe("alice set slow mode to 30 s");
    expect(eventText(ev({ kind: "settings_changed", changes: { slow_mode_s: 0 } }))).toBe("alice turned slow mode off");
    expect(eventText(ev({ kind: "settings_changed", changes: { topic: "Earnings week", slow_mode_s: 300 } }))).toBe(
      "alice set the topic to “Earnings week” and set slow mode to 5 min",
    );
    expect(eventText(ev({ kind: "settings_changed", changes: { topic: "" } }))).toBe("alice cleared the topic");
  });
});

describe("effectOnMe", () => {
  it("changes the signed-in user's role and mute only when they are the target", () => {
    expect(effectOnMe(ev({ kind: "muted", target: "Bob", until: "2026-03-02T15:00:00Z" }), "bob")).toEqual({ mutedUntil: "2026-03-02T15:00:00Z" });
    expect(effectOnMe(ev({ kind: "unmuted", target: "bob" }), "bob")).toEqual({ mutedUntil: null });
    expect(effectOnMe(ev({ kind: "role_changed", target: "bob", role: "moderator" }), "bob")).toEqual({ role: "moderator" });
    expect(effectOnMe(ev({ kind: "member_added", target: "bob" }), "bob")).toEqual({ role: "member" });
    expect(effectOnMe(ev({ kind: "muted", target: "carol", until: "2026-03-02T15:00:00Z" }), "bob")).toEqual({});
    expect(effectOnMe(ev({ kind: "settings_changed", changes: { topic: "x" } }), "bob")).toEqual({});
  });
});

describe("eventItem", () => {
  it("is a timeline entry at the event's seq that no message action applies to", () => {
    const item = eventItem(ev({ kind: "banned", target: "carol" }));
    expect(item).toMatchObject({ seq: 7, anchor: 7, key: "event-7", user: "alice", text: "" });
    expect(item.id).toBeUndefined();
    expect(item.event?.kind).toBe("banned");
  });
});
