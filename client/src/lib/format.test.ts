import { describe, expect, it } from "vitest";
import {
  dayKey,
  percentSince,
  dayLabel,
  direction,
  formatAsOf,
  formatChange,
  formatCountdown,
  formatDuration,
  formatExchangeTime,
  formatPercent,
  formatPrice,
  formatTime,
  marketStateLabel,
  remainingChars,
  withDaySeparators,
} from "./format";

const en = { locale: "en-US", timeZone: "UTC" };

describe("formatPrice", () => {
  it("formats ISO currencies with their symbol", () => {
    expect(formatPrice("93.42", "USD", "en-US")).toBe("$93.42");
    expect(formatPrice("1234.5", "EUR", "de-DE")).toBe("1.234,50\u00a0€");
  });
  it("keeps the provider's precision without float rounding", () => {
    expect(formatPrice("0.123456", "USD", "en-US")).toBe("$0.123456");
    expect(formatPrice("1.0850", "USD", "en-US")).toBe("$1.0850");
    expect(formatPrice("9007199254740993.01", "USD", "en-US")).toBe("$9,007,199,254,740,993.01");
  });
  it("shows units that are not currencies as a suffix", () => {
    expect(formatPrice("72.5", "GBX", "en-GB")).toBe("72.50 GBX");
    expect(formatPrice("5123.4", "points", "en-US")).toBe("5,123.40 pts");
    expect(formatPrice("5", "", "en-US")).toBe("5.00");
  });
  it("passes through what is not a number", () => {
    expect(formatPrice("n/a", "USD", "en-US")).toBe("n/a");
  });
});

describe("changes", () => {
  it("knows the direction from the sign", () => {
    expect(direction("1.20")).toBe("up");
    expect(direction("+0.01")).toBe("up");
    expect(direction("-0.40")).toBe("down");
    expect(direction("0.00")).toBe("flat");
    expect(direction("-0.00")).toBe("flat");
    expect(direction("?")).toBe("flat");
  });
  it("signs changes and percents", () => {
    expect(formatChange("1.2", "en-US")).toBe("+1.20");
    expect(formatChange("-0.4", "en-US")).toBe("-0.40");
    expect(formatChange("0", "en-US")).toBe("0.00");
    expect(formatPercent("0.456", "en-US")).toBe("+0.46%");
    expect(formatPercent("-2.1", "en-US")).toBe("-2.10%");
  });
});

describe("times", () => {
  it("formats clock time in the given locale and zone", () => {
    expect(formatTime("2026-11-28T09:05:00Z", en)).toBe("9:05 AM");
    expect(formatTime("2026-11-28T09:05:00Z", { locale: "de-DE", timeZone: "UTC" })).toBe("09:05");
    expect(formatTime("2026-11-28T09:05:00Z", { locale: "en-GB", timeZone: "Asia/Tokyo" })).toBe("18:05");
    expect(formatTime("garbage", en)).toBe("");
  });
  it("computes calendar days in the user's zone", () => {
    expect(dayKey("2026-11-28T23:30:00Z", "UTC")).toBe("2026-11-28");
    expect(dayKey("2026-11-28T23:30:00Z", "Europe/Berlin")).toBe("2026-11-29");
  });
  it("labels today, yesterday and older days", () => {
    const now = new Date("2026-11-28T12:00:00Z");
    expect(dayLabel("2026-11-28T01:00:00Z", now, en)).toBe("Today");
    expect(dayLabel("2026-11-27T23:59:00Z", now, en)).toBe("Yesterday");
    expect(dayLabel("2026-11-20T10:00:00Z", now, en)).toBe("Friday, November 20");
    expect(dayLabel("2025-03-01T10:00:00Z", now, en)).toBe("Saturday, March 1, 2025");
  });
  it("handles month and year boundaries for yesterday", () => {
    expect(dayLabel("2025-12-31T10:00:00Z", new Date("2026-01-01T10:00:00Z"), en)).toBe("Yesterday");
  });
  it("shows a quote's time alone today, with the date otherwise", () => {
    const now = new Date("2026-11-28T12:00:00Z");
    expect(formatAsOf("2026-11-28T09:30:00Z", now, en)).toBe("9:30 AM");
    expect(formatAsOf("2026-11-27T21:00:00Z", now, en)).toBe("Nov 27, 9:00 PM");
  });
});

describe("withDaySeparators", () => {
  it("puts one separator before the first message of each day", () => {
    const now = new Date("2026-11-28T12:00:00Z");
    const items = [
      { key: "a", ts: "2026-11-27T10:00:00Z" },
      { key: "b", ts: "2026-11-27T11:00:00Z" },
      { key: "c", ts: "2026-11-28T08:00:00Z" },
    ];
    const rows = withDaySeparators(items, now, en);
    expect(rows.map((r) => (r.kind === "day" ? `[${r.label}]` : r.key))).toEqual(["[Yesterday]", "a", "b", "[Today]", "c"]);
  });
  it("returns nothing for nothing", () => {
    expect(withDaySeparators([], new Date(), en)).toEqual([]);
  });
});

describe("small labels", () => {
  it("humanises market states", () => {
    expect(marketStateLabel("REGULAR")).toBe("Market open");
    expect(marketStateLabel("closed")).toBe("Market closed");
    expect(marketStateLabel("POST")).toBe("After hours");
    expect(marketStateLabel("HALTED_NEWS")).toBe("Halted news");
    expect(marketStateLabel(undefined)).toBe("");
  });
  it("counts characters left as code points", () => {
    expect(remainingChars("abc")).toBe(1997);
    expect(remainingChars("📈📈", 10)).toBe(8);
  });
});

describe("quote fields of the quotes API", () => {
  it("shows the as-of time on the exchange's clock", () => {
    const q = { as_of: "2026-03-02T21:00:00Z", exchange_tz: "America/New_York" };
    expect(formatExchangeTime(q, "en-US")).toBe("Mar 2, 4:00 PM EST");
    expect(formatExchangeTime({ as_of: "2026-07-01T15:30:00Z", exchange_tz: "Europe/London" }, "en-GB")).toBe(
      "1 Jul, 16:30 BST",
    );
    expect(formatExchangeTime({ as_of: "2026-03-02T21:00:00Z", exchange_tz: "Not/AZone" }, "en-US")).toMatch(/2026|Mar/);
    expect(formatExchangeTime({ as_of: "garbage" })).toBe("garbage");
  });

  it("labels the market states and tolerates a missing change", () => {
    expect(marketStateLabel("open")).toBe("Market open");
    expect(marketStateLabel("pre-market")).toBe("Pre-market");
    expect(marketStateLabel("after-hours")).toBe("After hours");
    expect(marketStateLabel("closed")).toBe("Market closed");
    expect(direction(undefined)).toBe("flat");
    expect(direction(null)).toBe("flat");
  });
});

describe("percentSince", () => {
  it("gives the change in percent on exact decimals, rounded to two places", () => {
    expect(percentSince("93.42", "101.00")).toBe("8.11");
    expect(percentSince("100", "99.6")).toBe("-0.40");
    expect(percentSince("0.1", "0.3")).toBe("200.00");
    expect(percentSince("72.50", "72.50")).toBe("0.00");
    expect(percentSince("3", "4")).toBe("33.33");
    expect(percentSince("3", "5")).toBe("66.67");
  });

  it("gives nothing for a zero base or what is not a number", () => {
    expect(percentSince("0", "1")).toBeNull();
    expect(percentSince("n/a", "1")).toBeNull();
    expect(percentSince("1", "")).toBeNull();
  });
});

describe("formatDuration and formatCountdown", () => {
  it("reads a setting's seconds in the largest units that fit", () => {
    expect(formatDuration(30)).toBe("30 s");
    expect(formatDuration(300)).toBe("5 min");
    expect(formatDuration(3600)).toBe("1 h");
    expect(formatDuration(5400)).toBe("1 h 30 min");
  });

  it("counts down in whole seconds rounded up, minutes and seconds, then hours", () => {
    expect(formatCountdown(29_001)).toBe("30 s");
    expect(formatCountdown(0)).toBe("0 s");
    expect(formatCountdown(-5)).toBe("0 s");
    expect(formatCountdown(9 * 60_000 + 5_000)).toBe("9:05");
    expect(formatCountdown(24 * 3_600_000 - 60_000)).toBe("23 h 59 min");
  });
});
