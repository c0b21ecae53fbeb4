// @vitest-environment jsdom
import { act, cleanup, render, screen, waitFor, within } from "@testing-library/react";
import axe from "axe-core";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { TimelineItem } from "../lib/messages";
import type { Idea, Message, Quote } from "../lib/types";
import { renderChatApp } from "../testing/chatApp";
import { fakeFetch, type Call } from "../testing/fakeFetch";
import { FakeSocket } from "../testing/fakeSocket";
import { stubResizeObserver } from "../testing/layout";
import { MessageRow } from "./MessageRow";

let socket: FakeSocket;
vi.mock("socket.io-client", async () => (await import("../testing/fakeSocket")).fakeSocketIo(() => socket));

const TS = "2026-03-02T14:30:00Z";

function quote(symbol: string, price: string, currency = "USD"): Quote {
  return { symbol, price, currency, change: "0.10", change_pct: "0.10", as_of: TS, market_state: "open", source: "stooq", series: [] };
}

/** Live prices by code; each test uses its own codes, as the page's quote store keeps what it was told. */
const LIVE: Record<string, Quote> = {
  "AAPL.US": quote("AAPL.US", "95.00"),
  "TSLA.US": quote("TSLA.US", "95.00"),
  "VOD.UK": quote("VOD.UK", "70.05", "GBX"),
  "NVDA.US": quote("NVDA.US", "130.00"),
};

const quotesRoute = (c: Call) => {
  const codes = (c.query.get("symbols") ?? "").split(",");
  return { quotes: codes.filter((s) => LIVE[s]).map((s) => LIVE[s]), errors: [], resolved: Object.fromEntries(codes.map((s) => [s, s])) };
};

function idea(over: Partial<Idea> = {}): Idea {
  return {
    id: "i1",
    author: "alice",
    channel: "desk",
    side: "long",
    symbol: "AAPL.US",
    currency: "USD",
    entry: "93.42",
    target: "100.00",
    stop: "90.00",
    opened_at: TS,
    expires_at: "2026-03-07T14:30:00Z",
    status: "open",
    ...over,
  };
}

const card = (i: Idea): Message => ({ id: i.id, channel: "desk", seq: 3, rev: 3, user: "StockBot", bot: true, text: `alice: ${i.side} ${i.symbol} at $${i.entry}`, ts: TS, idea: i });

function row(i: Idea) {
  const item: TimelineItem = { ...card(i), seq: 3, key: "k", anchor: 3 };
  render(<MessageRow item={item} me="bob" compact={false} />);
  return screen.getByTestId("idea-card");
}

beforeAll(stubResizeObserver);
beforeEach(() => {
  socket = new FakeSocket();
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("the idea card", () => {
  it("shows an open long's side, entry, the price now and the gain since posting, with the levels on a bar", async () => {
    fakeFetch({ "GET /api/quotes": quotesRoute });
    const el = row(idea());
    expect(el.getAttribute("aria-label")).toBe("Trade idea: long AAPL.US by alice");
    expect(within(el).getByTestId("idea-side").textContent).toBe("Long");
    expect(within(el).getByText("Open")).toBeTruthy();
    expect(within(el).getByTestId("idea-entry").textContent).toBe("$93.42");
    await waitFor(() => expect(within(el).getByTestId("idea-now").textContent).toBe("$95.00"));
    const pnl = within(el).getByTestId("idea-pnl");
    // (95.00 - 93.42) / 93.42 = 1.6912…%
    expect(pnl.textContent).toBe("▲ up +1.69%");
    expect(pnl.className).toContain("text-up");
    expect(within(el).getByRole("img", { name: "Stop $90.00, Entry $93.42, Now $95.00, Target $100.00" })).toBeTruthy();
    expect(within(el).getByTestId("idea-expiry").textContent).toMatch(/^Until Mar 7, 2026$/);
    expect(within(el).queryByTestId("idea-outcome")).toBeNull();
    const res = await axe.run(el, { rules: { "color-contrast": { enabled: false } } });
    expect(res.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);
  });

  it("counts a short's loss as the price rises, and its gain in pence as it falls", async () => {
    fakeFetch({ "GET /api/quotes": quotesRoute });
    const el = row(idea({ side: "short", symbol: "TSLA.US", target: "85.00", stop: "100.00" }));
    await waitFor(() => expect(within(el).getByTestId("idea-pnl").textContent).toBe("▼ down -1.69%"));
    expect(within(el).getByTestId("idea-pnl").className).toContain("text-down");
    expect(within(el).getByTestId("idea-side").textContent).toBe("Short");
    cleanup();
    const gbx = row(idea({ id: "i2", side: "short", symbol: "VOD.UK", currency: "GBX", entry: "72.10", target: "65", stop: "75" }));
    // (72.10 - 70.05) / 72.10 = 2.843…% earned by the short
    await waitFor(() => expect(within(gbx).getByTestId("idea-pnl").textContent).toBe("▲ up +2.84%"));
    expect(within(gbx).getByTestId("idea-now").textContent).toBe("70.05 GBX");
  });

  it("once closed shows the outcome, the exit and the return, and no live P&L", () => {
    const calls = fakeFetch({ "GET /api/quotes": quotesRoute });
    const el = row(idea({ symbol: "NVDA.US", status: "target_hit", exit: "100.20", closed_at: "2026-03-04T15:00:00Z", return_pct: "7.26" }));
    expect(within(el).getByTestId("idea-outcome").textContent).toBe("Target hit");
    expect(within(el).getByTestId("idea-exit").textContent).toBe("$100.20");
    expect(within(el).getByTestId("idea-return").textContent).toBe("▲ up +7.26%");
    expect(within(el).queryByTestId("idea-pnl")).toBeNull();
    expect(within(el).queryByTestId("idea-now")).toBeNull();
    expect(within(el).getByRole("img", { name: "Stop $90.00, Entry $93.42, Target $100.00, Exit $100.20" })).toBeTruthy();
    // A closed idea asks for no quote.
    expect(calls.filter((c) => c.path === "/api/quotes")).toEqual([]);
    cleanup();
    const stopped = row(idea({ id: "i3", symbol: "NVDA.US", status: "stopped", exit: "89.90", return_pct: "-3.77" }));
    expect(within(stopped).getByTestId("idea-outcome").textContent).toBe("Stopped");
    expect(within(stopped).getByTestId("idea-return").textContent).toBe("▼ down -3.77%");
  });
});

describe("the idea card in the app", () => {
  it("turns to “Target hit” in place when the idea's message_updated arrives", async () => {
    const open = idea({ symbol: "NVDA.US", entry: "93.42", target: "125.00", stop: "90.00" });
    socket.acks.join = (p) => ({ ok: true, channel: p.channel, messages: [card(open)], last_seq: 3, members: ["alice"], role: null, muted_until: null, events: [] });
    // The list draws the rows that fit its height, which jsdom (no layout) says is 0.
    vi.spyOn(HTMLElement.prototype, "clientHeight", "get").mockReturnValue(600);
    vi.spyOn(HTMLElement.prototype, "clientWidth", "get").mockReturnValue(800);
    renderChatApp({
      "GET /api/me": { username: "bob", roles: ["user"] },
      "GET /api/me/channels": { channels: [{ name: "desk", created_by: "bob", created_at: "" }] },
      "GET /api/channels/desk/pins": { messages: [] },
      "GET /api/me/watchlist": { symbols: [] },
      "GET /api/quotes": quotesRoute,
    });
    const el = await screen.findByTestId("idea-card");
    await waitFor(() => expect(within(el).getByTestId("idea-pnl").textContent).toBe("▲ up +39.16%"));
    const hit = { ...open, status: "target_hit" as const, exit: "125.10", closed_at: "2026-03-04T15:00:00Z", return_pct: "33.91" };
    act(() => socket.fire("message_updated", { channel: "desk", seq: 4, kind: "idea", by: "StockBot", message: { ...card(hit), rev: 4 } }));
    await waitFor(() => expect(within(screen.getByTestId("idea-card")).getByTestId("idea-outcome").textContent).toBe("Target hit"));
    const closed = screen.getByTestId("idea-card");
    expect(within(closed).getByTestId("idea-return").textContent).toBe("▲ up +33.91%");
    expect(within(closed).queryByTestId("idea-pnl")).toBeNull();
    expect(screen.getAllByTestId("message")).toHaveLength(1);
  });
});
