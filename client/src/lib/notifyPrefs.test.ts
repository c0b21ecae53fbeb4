import { describe, expect, it } from "vitest";
import { levelsToSave, parseCashtags, parseKeywords, prefsFromForm } from "./notifyPrefs";

describe("parseKeywords", () => {
  it("reads one a line or comma-separated, as the server stores them: lower-cased, single-spaced, each once", () => {
    expect(parseKeywords("Earnings\n  rate   CUT , earnings\n\n")).toEqual({ ok: true, values: ["earnings", "rate cut"] });
    expect(parseKeywords("")).toEqual({ ok: true, values: [] });
  });

  it("says what is wrong: too short, too long, no word, too many", () => {
    expect(parseKeywords("ok, x")).toEqual({ ok: false, error: "“x” is too short: a keyword has 2 characters at least." });
    expect(parseKeywords("a".repeat(51))).toMatchObject({ ok: false, error: expect.stringContaining("too long") as unknown });
    expect(parseKeywords("!!")).toEqual({ ok: false, error: "“!!” has no word in it." });
    const many = Array.from({ length: 51 }, (_, i) => `word${i}`).join("\n");
    expect(parseKeywords(many)).toEqual({ ok: false, error: "At most 50 keywords (51 given)." });
  });
});

describe("parseCashtags", () => {
  it("takes codes with or without $, separated by spaces or commas, upper-cased, each once", () => {
    expect(parseCashtags("$aapl, TSLA $vod.l $aapl")).toEqual({ ok: true, values: ["AAPL", "TSLA", "VOD.L"] });
  });

  it("refuses what is not a cashtag", () => {
    expect(parseCashtags("$AAPL $5")).toEqual({ ok: false, error: "“$5” is not a cashtag (like $AAPL or $VOD.L)." });
  });
});

describe("prefsFromForm", () => {
  it("keeps the levels of channels the form does not show and drops those set back to the default", () => {
    expect(levelsToSave({ gone: "none", desk: "all" }, { desk: "", general: "mentions" })).toEqual({ gone: "none", general: "mentions" });
    expect(prefsFromForm("earnings", "$AAPL", {}, { desk: "all" })).toEqual({
      prefs: { keywords: ["earnings"], cashtags: ["AAPL"], channels: { desk: "all" } },
    });
    expect(prefsFromForm("x", "$5", {}, {})).toEqual({
      keywordsError: "“x” is too short: a keyword has 2 characters at least.",
      cashtagsError: "“$5” is not a cashtag (like $AAPL or $VOD.L).",
    });
  });
});
