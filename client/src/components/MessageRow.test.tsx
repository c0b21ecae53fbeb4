// @vitest-environment jsdom
import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { formatPrice, formatTime } from "../lib/format";
import type { TimelineItem } from "../lib/messages";
import type { Quote, QuotesResponse } from "../lib/types";
import { MessageRow } from "./MessageRow";

const TS = "2026-03-02T14:30:00Z";

function item(over: Partial<TimelineItem> = {}): TimelineItem {
  return { key: "m1", anchor: 1, seq: 1, channel: "general", user: "alice", text: "hello there", ts: TS, ...over };
}

function quote(symbol: string, price: string): Quote {
  return {
    symbol,
    price,
    currency: "USD",
    change: "1.00",
    change_pct: "0.50",
    as_of: TS,
    market_state: "REGULAR",
    source: "stooq",
    series: [],
  };
}

/** Live prices the fake /api/quotes answers with, by code as asked. */
const LIVE: Record<string, Quote> = {
  AAPL: quote("AAPL.US", "189.84"),
  TSLA: quote("TSLA.US", "275.00"),
};

const fetchMock = vi.fn((input: RequestInfo | URL) => {
  const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url, "http://localhost");
  const body: QuotesResponse = { quotes: [], errors: [], resolved: {} };
  for (const code of (url.searchParams.get("symbols") ?? "").split(",")) {
    const q = LIVE[code];
    if (q) {
      body.quotes.push(q);
      body.resolved[code] = q.symbol;
    } else {
      body.errors.push({ symbol: code, code: "unknown_symbol", message: `No such code ${code}` });
    }
  }
  return Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
});

beforeEach(() => {
  fetchMock.mockClear();
  vi.stubGlobal("fetch", fetchMock);
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function row(over: Partial<TimelineItem> = {}, { me = "bob", compact = false } = {}) {
  render(<MessageRow item={item(over)} me={me} compact={compact} />);
  return screen.getByTestId("message");
}

describe("MessageRow", () => {
  it("shows the author, the time and the text of someone else's message", () => {
    const el = row();
    expect(within(el).getByText("alice")).toBeTruthy();
    expect(within(el).getByText("hello there")).toBeTruthy();
    const time = el.querySelector("time")!;
    expect(time.textContent).toBe(formatTime(TS));
    expect(time.getAttribute("datetime")).toBe(TS);
    expect(within(el).queryByText("you")).toBeNull();
    expect(within(el).queryByText("Bot")).toBeNull();
  });

  it("marks my own message with “you”, whatever the case of my name", () => {
    const el = row({}, { me: "ALICE" });
    expect(within(el).getByText("you")).toBeTruthy();
  });

  it("a grouped follow-up shows no name but still tells a screen reader whose it is", () => {
    const el = row({}, { compact: true });
    expect(within(el).queryByText("alice")).toBeNull();
    expect(within(el).getByText("alice:").className).toContain("sr-only");
    expect(el.querySelector("time")!.textContent).toBe(formatTime(TS));
    expect(within(el).getByText("hello there")).toBeTruthy();
  });

  it("renders what people write as text, never as HTML", () => {
    const text = '<img src=x onerror="alert(1)"> <b>bold</b>';
    const el = row({ text });
    expect(within(el).getByTestId("message-text").textContent).toBe(text);
    expect(el.querySelector("img, b")).toBeNull();
  });

  it("makes links open in a new tab without handing it this page", () => {
    const el = row({ text: "read https://example.com/a?b=1 now" });
    const link = within(el).getByRole("link", { name: "https://example.com/a?b=1" });
    expect(link.getAttribute("href")).toBe("https://example.com/a?b=1");
    expect(link.getAttribute("target")).toBe("_blank");
    expect(link.getAttribute("rel")).toBe("noopener noreferrer");
    expect(within(el).getByTestId("message-text").textContent).toBe("read https://example.com/a?b=1 now");
  });

  it("turns a cashtag into a chip that shows the live price", async () => {
    const el = row({ text: "watching $AAPL today" });
    const chip = within(el).getByRole("button", { name: /\$AAPL/ });
    expect(within(el).getByTestId("message-text").textContent).toMatch(/^watching \$AAPL.* today$/);
    expect(await within(chip).findByText(formatPrice("189.84", "USD"))).toBeTruthy();
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(fetchMock.mock.calls[0]![0]).toBe("/api/quotes?symbols=AAPL");
  });

  it("shows a stamped cashtag's price when posted and the change since, not today's price", async () => {
    const el = row({
      text: "bought $tsla",
      stamps: [{ code: "TSLA", symbol: "TSLA.US", price: "250.00", currency: "USD", as_of: TS }],
    });
    const chip = within(el).getByRole("button", { name: /\$tsla/ });
    expect(within(chip).getByText(formatPrice("250.00", "USD"))).toBeTruthy();
    // Once the live quote (275.00) is in: 250 -> 275 is +10 %.
    const since = await within(chip).findByTestId("cashtag-since");
    expect(since.textContent).toMatch(/up \+10[.,]00% since$/);
    expect(within(chip).queryByText(formatPrice("275.00", "USD"))).toBeNull();
  });

  it("keeps $ text plain in bot replies and in echoes of my own commands", () => {
    const bot = row({ user: "StockBot", bot: true, text: "No quote for $ZZZZ" });
    expect(within(bot).getByText("No quote for $ZZZZ")).toBeTruthy();
    expect(within(bot).queryByRole("button")).toBeNull();
    cleanup();
    const echo = row({ seq: undefined, local: true, ephemeral: true, text: "/stock=$aapl" }, { me: "alice" });
    expect(within(echo).getByText("/stock=$aapl")).toBeTruthy();
    expect(within(echo).queryByRole("button")).toBeNull();
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("shows a bot reply with its Bot badge, its text and one quote card per quote", () => {
    const el = row({
      user: "StockBot",
      bot: true,
      text: "AAPL.US and MSFT.US",
      quotes: [quote("AAPL.US", "189.84"), quote("MSFT.US", "410.12")],
    });
    expect(within(el).getByText("StockBot")).toBeTruthy();
    expect(within(el).getByText("Bot")).toBeTruthy();
    expect(within(el).getByText("AAPL.US and MSFT.US")).toBeTruthy();
    const cards = within(el).getAllByRole("article");
    expect(cards.map((c) => c.getAttribute("aria-label"))).toEqual(["Quote for AAPL.US", "Quote for MSFT.US"]);
    expect(within(cards[1]!).getByTestId("quote-price").textContent).toBe(formatPrice("410.12", "USD"));
  });

  it("still shows the card of an older reply that carries a single `quote`", () => {
    const el = row({ user: "StockBot", bot: true, text: "AAPL.US quote", quote: quote("AAPL.US", "189.84") });
    expect(within(el).getAllByRole("article").map((c) => c.getAttribute("aria-label"))).toEqual(["Quote for AAPL.US"]);
  });

  it("says an ephemeral reply is only visible to me, and says nothing on a normal one", () => {
    const eph = row({ seq: undefined, user: "StockBot", bot: true, ephemeral: true, text: "Usage: /stock=CODE" });
    expect(within(eph).getByText("Only visible to you")).toBeTruthy();
    cleanup();
    expect(within(row()).queryByText("Only visible to you")).toBeNull();
  });

  it("draws the message's mentions as pills, mine stronger, and highlights a row that mentions me", async () => {
    const text = "@Bob and @carol: $AAPL at https://example.com/@bob, @nobody, @channel";
    const el = row({ text, mentions: ["bob", "carol", "@channel"] });
    expect(within(el).getByTestId("message-text").textContent).toMatch(/^@Bob and @carol: \$AAPL.* at https:\/\/example.com\/@bob, @nobody, @channel$/);
    const pills = within(el).getAllByTestId("mention");
    expect(pills.map((p) => [p.textContent, p.dataset.me])).toEqual([
      ["@Bob", "true"],
      ["@carol", "false"],
      ["@channel", "true"],
    ]);
    expect(within(el).getByRole("link").textContent).toBe("https://example.com/@bob");
    expect(within(el).getByRole("button", { name: /\$AAPL/ })).toBeTruthy(); // a chip between pills
    expect(el.dataset.mentionsMe).toBe("true");
    await within(el).findByText(formatPrice("189.84", "USD"));
  });

  it("does not highlight a row that mentions others, nor my own message that says @channel", () => {
    expect(row({ text: "@carol hi", mentions: ["carol"] }).dataset.mentionsMe).toBe("false");
    cleanup();
    const own = row({ user: "bob", text: "@channel standup", mentions: ["@channel"] });
    expect(own.dataset.mentionsMe).toBe("false");
    expect(within(own).getByTestId("mention").textContent).toBe("@channel");
  });
});
