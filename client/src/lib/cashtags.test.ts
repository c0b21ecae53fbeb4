import { describe, expect, it } from "vitest";
import { cashtagSymbols, MAX_CASHTAGS, splitCashtags, type Segment } from "./cashtags";

const tags = (text: string) => cashtagSymbols(text);
const join = (segments: Segment[]) => segments.map((s) => (s.kind === "text" ? s.text : s.raw)).join("");

describe("splitCashtags", () => {
  it("splits a message into text and chips, keeping the text as text", () => {
    expect(splitCashtags("watching $AAPL today")).toEqual([
      { kind: "text", text: "watching " },
      { kind: "cashtag", raw: "$AAPL", symbol: "AAPL" },
      { kind: "text", text: " today" },
    ]);
  });

  it("accepts exchange suffixes, share classes, crypto pairs and any case", () => {
    expect(tags("$VOD.L and $BTC-USD and $brk.b, $EURUSD=X $CL=F $aapl.us")).toEqual([
      "VOD.L",
      "BTC-USD",
      "BRK.B",
      "EURUSD=X",
      "CL=F",
      "AAPL.US",
    ]);
  });

  it("keeps the raw spelling for display", () => {
    const [chip] = splitCashtags("$brk.b").filter((s) => s.kind === "cashtag");
    expect(chip).toEqual({ kind: "cashtag", raw: "$brk.b", symbol: "BRK.B" });
  });

  it("leaves amounts of money alone", () => {
    for (const text of ["$5", "costs $5.00", "$1m raise", "US$", "US$100", "US$AAPL", "A$50", "$", "$ AAPL"]) {
      expect(splitCashtags(text)).toEqual([{ kind: "text", text }]);
    }
  });

  it("does not take $$ or a tag glued to a word", () => {
    for (const text of ["$$", "$$AAPL", "pay$AAPL", "a_$AAPL", "é$AAPL", "$AAPL_x", "$AAPL$", "$AAPLé"]) {
      expect(tags(text)).toEqual([]);
    }
  });

  it("ends a tag at punctuation", () => {
    expect(tags("$AAPL.")).toEqual(["AAPL"]);
    expect(tags("$AAPL, $MSFT; $NVDA! $TSLA? ($AMZN) $GOOG's \"$META\" $VOD.L.")).toEqual([
      "AAPL",
      "MSFT",
      "NVDA",
      "TSLA",
      "AMZN",
      "GOOG",
      "META",
      "VOD.L",
    ]);
    expect(tags("$BTC-USD- ok")).toEqual(["BTC-USD"]);
    expect(tags("line one\n$AAPL\nline two")).toEqual(["AAPL"]);
  });

  it("rejects codes that run on or are too long", () => {
    expect(tags("$AAPL.US.X.Y")).toEqual([]);
    expect(tags("$ABCDEFGHIJKLMNOP")).toEqual([]);
    expect(tags("$AAPL.TOOLONGSUFFIX")).toEqual([]);
  });

  it("makes chips of at most MAX_CASHTAGS distinct symbols; repeats are free", () => {
    const symbols = Array.from({ length: 12 }, (_, i) => `T${String.fromCharCode(65 + i)}`);
    const text = symbols.map((s) => `$${s}`).join(" ") + " $TA again";
    const segments = splitCashtags(text);
    const chips = segments.filter((s) => s.kind === "cashtag");
    expect(MAX_CASHTAGS).toBe(10);
    expect(chips.map((c) => c.symbol)).toEqual([...symbols.slice(0, 10), "TA"]);
    expect(join(segments)).toBe(text);
    expect(segments.some((s) => s.kind === "text" && s.text.includes("$TK $TL"))).toBe(true);
  });

  it("never loses or alters text, whatever it holds", () => {
    const texts = [
      "",
      "<img src=x onerror=alert(1)> $AAPL <b>bold</b>",
      "$AAPL$MSFT",
      "emoji 🚀$TSLA🚀 $NVDA",
      "$AAPL $AAPL $aapl",
      "price $AAPL: $93.42 (US$93.42)",
    ];
    for (const text of texts) expect(join(splitCashtags(text))).toBe(text);
    const html = splitCashtags("<img src=x onerror=alert(1)> $AAPL");
    expect(html[0]).toEqual({ kind: "text", text: "<img src=x onerror=alert(1)> " });
  });

  it("merges no adjacent text segments and emits no empty ones", () => {
    const segments = splitCashtags("$AAPL$ then $MSFT");
    for (const s of segments) if (s.kind === "text") expect(s.text).not.toBe("");
    for (let i = 1; i < segments.length; i++) {
      expect(segments[i - 1]!.kind === "text" && segments[i]!.kind === "text").toBe(false);
    }
    expect(tags("$AAPL$ then $MSFT")).toEqual(["MSFT"]);
  });

  it("handles emoji right before and after", () => {
    expect(tags("🚀$TSLA🚀")).toEqual(["TSLA"]);
  });
});
