// @vitest-environment jsdom
import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { formatAsOf, formatChange, formatExchangeTime, formatPercent, formatPrice } from "../lib/format";
import type { Quote } from "../lib/types";
import { QuoteCard } from "./QuoteCard";

afterEach(cleanup);

const AAPL: Quote = {
  symbol: "AAPL.US",
  name: "Apple Inc.",
  price: "189.84",
  currency: "USD",
  change: "1.25",
  change_pct: "0.66",
  as_of: "2026-03-02T21:00:00Z",
  as_of_local: "2026-03-02T16:00:00-05:00",
  exchange_tz: "America/New_York",
  market_state: "REGULAR",
  source: "stooq",
  series: ["187.10", "188.00", "189.84"],
};

function card(over: Partial<Quote> = {}) {
  const quote = { ...AAPL, ...over };
  render(<QuoteCard quote={quote} />);
  return { quote, el: screen.getByRole("article", { name: `Quote for ${quote.symbol}` }) };
}

/** The change line as read aloud: arrow (hidden), direction word, figure and percent. */
function changeText(el: HTMLElement) {
  return within(el).getByTestId("quote-change").textContent;
}

describe("QuoteCard", () => {
  it("is named by its symbol and shows the company name and the price in its currency", () => {
    const { el } = card();
    expect(within(el).getByText("AAPL.US")).toBeTruthy();
    expect(within(el).getByText("Apple Inc.")).toBeTruthy();
    const price = within(el).getByTestId("quote-price").textContent;
    expect(price).toBe(formatPrice("189.84", "USD"));
    expect(price).toMatch(/189[.,]84/);
  });

  it("keeps a non-ISO unit as a suffix and shows no name line when there is none", () => {
    const { el } = card({ symbol: "VOD.UK", name: null, price: "72.36", currency: "GBX" });
    expect(within(el).getByTestId("quote-price").textContent).toBe(formatPrice("72.36", "GBX"));
    expect(within(el).getByTestId("quote-price").textContent).toMatch(/GBX$/);
    expect(within(el).queryByText("Apple Inc.")).toBeNull();
  });

  it("shows a rise with an up arrow, the word up, a plus sign and the percent", () => {
    const { el } = card();
    const text = changeText(el);
    expect(text).toBe(`▲ up ${formatChange("1.25")} (${formatPercent("0.66")})`);
    expect(text).toMatch(/\+1[.,]25 \(\+0[.,]66%\)$/);
  });

  it("shows a fall with a down arrow, the word down and a minus sign", () => {
    const { el } = card({ change: "-2.10", change_pct: "-1.09" });
    const text = changeText(el);
    expect(text).toBe(`▼ down ${formatChange("-2.10")} (${formatPercent("-1.09")})`);
    expect(text).toMatch(/[-\u2212]2[.,]10 \([-\u2212]1[.,]09%\)$/);
  });

  it("reads a zero change as unchanged, without a sign", () => {
    const { el } = card({ change: "0.00", change_pct: "0.00" });
    expect(changeText(el)).toBe(`■ unchanged ${formatChange("0.00")} (${formatPercent("0.00")})`);
    expect(changeText(el)).not.toMatch(/[+\-\u2212]/);
  });

  it("shows a dash and no percent when the provider gave no change", () => {
    const { el } = card({ change: null, change_pct: null });
    expect(changeText(el)).toBe("■ unchanged —");
  });

  it("marks a stale quote, and only a stale one", () => {
    const stale = card({ stale: true }).el;
    const badge = within(stale).getByText("Stale");
    expect(badge.getAttribute("title")).toBe("Older than one trading session");
    cleanup();
    const fresh = card({ stale: false }).el;
    expect(within(fresh).queryByText("Stale")).toBeNull();
  });

  it("says the market state in words, and nothing for an unknown one", () => {
    expect(within(card({ market_state: "REGULAR" }).el).getByText("Market open")).toBeTruthy();
    cleanup();
    expect(within(card({ market_state: "POST" }).el).getByText("After hours")).toBeTruthy();
    cleanup();
    const unknown = card({ market_state: "UNKNOWN" }).el;
    expect(within(unknown).queryByText(/market|after hours|pre-market/i)).toBeNull();
  });

  it("gives the as-of time on the exchange's clock, and the source", () => {
    const { el, quote } = card();
    const time = el.querySelector("time")!;
    expect(time.textContent).toBe(formatExchangeTime(quote));
    expect(time.getAttribute("datetime")).toBe("2026-03-02T16:00:00-05:00");
    expect(within(el).getByText("stooq")).toBeTruthy();
  });

  it("falls back to the viewer's clock when the quote names no exchange zone", () => {
    const { el } = card({ exchange_tz: null, as_of_local: null });
    const time = el.querySelector("time")!;
    expect(time.textContent).toBe(formatAsOf("2026-03-02T21:00:00Z"));
    expect(time.getAttribute("datetime")).toBe("2026-03-02T21:00:00Z");
  });

  it("draws the price trend from two points on, and nothing for fewer", () => {
    expect(within(card().el).getByRole("img", { name: "Price trend over 3 points" })).toBeTruthy();
    cleanup();
    expect(within(card({ series: ["189.84"] }).el).queryByRole("img")).toBeNull();
  });
});
