import { describe, expect, it } from "vitest";
import { canAppoint, canModerate, channelLabel, dmPeer, isPrivate, slowModeExempt, splitChannels } from "./access";
import type { Channel } from "./types";

const room = (name: string, over: Partial<Channel> = {}): Channel => ({ name, created_by: "alice", created_at: "", ...over });
const dm = room("dm-0123456789abcdef0123", { kind: "dm", visibility: "private", members: ["alice", "Bob"] });

describe("access", () => {
  it("lets owners, moderators and site admins moderate; only owners and admins appoint", () => {
    expect(canModerate("owner", ["user"])).toBe(true);
    expect(canModerate("moderator", ["user"])).toBe(true);
    expect(canModerate("member", ["user"])).toBe(false);
    expect(canModerate(null, ["user", "admin"])).toBe(true);
    expect(canModerate(null, ["user", "compliance"])).toBe(false);
    expect(canAppoint("moderator", ["user"])).toBe(false);
    expect(canAppoint("owner", ["user"])).toBe(true);
    expect(canAppoint(null, ["user", "admin"])).toBe(true);
    expect(slowModeExempt("moderator", ["user"])).toBe(true);
    expect(slowModeExempt("member", ["user"])).toBe(false);
    expect(slowModeExempt(null, ["user", "admin"])).toBe(true);
  });

  it("names a DM by the other person and a channel by its name", () => {
    expect(dmPeer(dm, "ALICE")).toBe("Bob");
    expect(channelLabel(dm, dm.name, "alice")).toBe("@Bob");
    expect(channelLabel(room("desk"), "desk", "alice")).toBe("#desk");
    expect(channelLabel(undefined, "desk", "alice")).toBe("#desk");
  });

  it("treats DMs as private and keeps them apart from the channels", () => {
    expect(isPrivate(dm)).toBe(true);
    expect(isPrivate(room("vip", { visibility: "private" }))).toBe(true);
    expect(isPrivate(room("general"))).toBe(false);
    const { rooms, dms } = splitChannels([room("desk"), dm, room("general")]);
    expect(rooms.map((c) => c.name)).toEqual(["desk", "general"]);
    expect(dms).toEqual([dm]);
  });
});
