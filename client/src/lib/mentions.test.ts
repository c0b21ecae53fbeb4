import { describe, expect, it } from "vitest";
import { mentionsMe, splitMentions, targetsMe } from "./mentions";

const pills = (text: string, mentions: string[]) =>
  splitMentions(text, mentions).flatMap((s) => (s.kind === "mention" ? [[s.raw, s.target]] : []));

describe("splitMentions", () => {
  it("makes pills of the names the server listed, and gives the text back exactly", () => {
    const text = "@Bob look at this, @here and @channel, cc @carol";
    const segs = splitMentions(text, ["bob", "@here", "@channel"]);
    expect(segs.map((s) => (s.kind === "text" ? s.text : s.raw)).join("")).toBe(text);
    expect(pills(text, ["bob", "@here", "@channel"])).toEqual([
      ["@Bob", "bob"],
      ["@here", "@here"],
      ["@channel", "@channel"],
    ]);
  });

  it("leaves names the server did not list as text (nobody by that name, @channel not allowed)", () => {
    expect(pills("@nobody @channel hi", ["bob"])).toEqual([]);
    expect(splitMentions("@nobody hi", undefined)).toEqual([{ kind: "text", text: "@nobody hi" }]);
    expect(splitMentions("", ["bob"])).toEqual([]);
  });

  it("finds names as core/textscan.py does: not in e-mail addresses, trailing punctuation left out", () => {
    const all = ["bob", "bob.smith", "al-x", "a_b"];
    expect(pills("mail bob@example.com or x.@bob", all)).toEqual([]);
    expect(pills("thanks @bob.", all)).toEqual([["@bob", "bob"]]);
    expect(pills("(@bob.smith)", all)).toEqual([["@bob.smith", "bob.smith"]]);
    expect(pills("@al-x- and @a_b_", all)).toEqual([["@al-x", "al-x"]]); // `@a_b_` runs on into `_`
    expect(pills("@@bob @bob@x @bobé", all)).toEqual([]);
    expect(pills("@bo", ["bo"])).toEqual([]); // three characters at least
  });

  it("draws at most twenty distinct names, as the server reads them", () => {
    const names = Array.from({ length: 22 }, (_, i) => `user${i}`);
    const found = pills(names.map((n) => `@${n}`).join(" ") + " @user0", names);
    expect(found).toHaveLength(21);
    expect(found.at(-1)).toEqual(["@user0", "user0"]);
  });
});

describe("mentionsMe", () => {
  it("is my name in any case, @here or @channel, in someone else's message", () => {
    expect(mentionsMe({ user: "alice", mentions: ["BOB"] }, "bob")).toBe(true);
    expect(mentionsMe({ user: "alice", mentions: ["@here"] }, "bob")).toBe(true);
    expect(mentionsMe({ user: "alice", mentions: ["carol"] }, "bob")).toBe(false);
    expect(mentionsMe({ user: "Bob", mentions: ["@channel"] }, "bob")).toBe(false);
    expect(mentionsMe({ user: "alice", mentions: ["bob"], deleted: true }, "bob")).toBe(false);
    expect(targetsMe("@channel", "bob") && !targetsMe("carol", "bob")).toBe(true);
  });
});
