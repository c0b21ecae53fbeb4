// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../lib/api";
import type { Quote } from "../lib/types";
import { Watchlist } from "../lib/watchlist";
import { renderChatApp } from "../testing/chatApp";
import { fakeFetch, type Call } from "../testing/fakeFetch";
import { FakeSocket } from "../testing/fakeSocket";
import { stubResizeObserver } from "../testing/layout";
import { TickerStrip } from "./TickerStrip";

let socket: FakeSocket;
vi.mock("socket.io-client", async () => (await import("../testing/fakeSocket")).fakeSocketIo(() => socket));

beforeAll(stubResizeObserver);
beforeEach(() => {
  socket = new FakeSocket();
  socket.acks.join = (p) => ({ ok: true, channel: p.channel, messages: [], last_seq: 0, members: ["alice"], role: null, muted_until: null, events: [] });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function quote(symbol: string, price: string, change_pct: string, currency = "USD"): Quote {
  const series = ["100", "101.5", "99.8", "102.2"];
  return { symbol, price, currency, change: change_pct, change_pct, as_of: "2026-03-02T21:00:00Z", market_state: "open", source: "stooq", series };
}

const PRICES: Record<string, Quote> = {
  "AAPL.US": quote("AAPL.US", "189.84", "1.25"),
  "VOD.UK": quote("VOD.UK", "72.10", "-0.40", "GBX"),
  "MSFT.US": quote("MSFT.US", "410.10", "0.00"),
};

/** The watchlist endpoints over a stored list; codes without a price come back as errors. */
function watchlistRoutes(stored: string[]) {
  const normal = (s: string) => (s.includes(".") ? s.toUpperCase() : `${s.toUpperCase()}.US`);
  return {
    "GET /api/me/watchlist": () => ({
      symbols: stored,
      quotes: stored.filter((s) => PRICES[s]).map((s) => PRICES[s]),
      errors: stored.filter((s) => !PRICES[s]).map((s) => ({ symbol: s, code: "unavailable", message: "Quotes are unavailable right now" })),
    }),
    "PUT /api/me/watchlist": (c: Call) => {
      const asked = (c.body as { symbols: string[] }).symbols;
      if (asked.some((s) => s === "??")) return { status: 400, error: { code: "invalid_symbol", message: "'??' is not a valid stock code" } };
      stored = [...new Set(asked.map(normal))];
      return { symbols: stored };
    },
  };
}

const strip = (stored: string[]) => {
  const calls = fakeFetch(watchlistRoutes(stored));
  render(<TickerStrip watchlist={new Watchlist({ get: () => api.watchlist(true), put: (s) => api.setWatchlist(s) })} />);
  return { calls, user: userEvent.setup() };
};

const ticker = (symbol: string) => screen.getAllByTestId("ticker").find((t) => t.dataset.symbol === symbol)!;

describe("the ticker strip", () => {
  it("shows each watched code's price and day change, up and down told by sign and arrow as well as colour, from one request", async () => {
    const { calls } = strip(["AAPL.US", "VOD.UK", "MSFT.US", "ZZZ.US"]);
    await waitFor(() => expect(screen.getAllByTestId("ticker-price")).toHaveLength(4));
    await waitFor(() => expect(within(ticker("AAPL.US")).getByTestId("ticker-price").textContent).toBe("$189.84"));
    expect(screen.getAllByTestId("ticker").map((t) => t.dataset.symbol)).toEqual(["AAPL.US", "VOD.UK", "MSFT.US", "ZZZ.US"]);

    const up = within(ticker("AAPL.US")).getByTestId("ticker-change");
    expect(up.textContent).toBe("▲up +1.25%");
    expect(screen.getByRole("button", { name: "AAPL.US $189.84 up +1.25%" })).toBeTruthy();
    expect(up.className).toContain("text-up");
    const down = within(ticker("VOD.UK")).getByTestId("ticker-change");
    expect(down.textContent).toBe("▼down -0.40%");
    expect(down.className).toContain("text-down");
    expect(within(ticker("VOD.UK")).getByTestId("ticker-price").textContent).toBe("72.10 GBX");
    expect(within(ticker("MSFT.US")).getByTestId("ticker-change").textContent).toBe("■unchanged 0.00%");
    // A code the server could not quote: a quiet dash, the reason in its title and for a screen reader.
    const failed = within(ticker("ZZZ.US")).getByRole("button", { name: "ZZZ.US Quotes are unavailable right now" });
    expect(failed.textContent).toBe("ZZZ.US —Quotes are unavailable right now");
    expect(failed.title).toBe("ZZZ.US: Quotes are unavailable right now");

    expect(calls.map((c) => `${c.method} ${c.path}?${c.query}`)).toEqual(["GET /api/me/watchlist?quotes=true"]);
    const res = await axe.run(screen.getByTestId("ticker-strip"), { rules: { "color-contrast": { enabled: false } } });
    expect(res.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);
  });

  it("draws the trend on hover and on focus", async () => {
    strip(["AAPL.US"]);
    const button = await screen.findByRole("button", { name: /AAPL.US \$189.84/ });
    expect(screen.queryByTestId("ticker-tip")).toBeNull();
    fireEvent.mouseEnter(ticker("AAPL.US"));
    const tip = screen.getByRole("tooltip");
    expect(within(tip).getByTestId("sparkline").getAttribute("aria-label")).toBe("Price trend over 4 points");
    fireEvent.mouseLeave(ticker("AAPL.US"));
    expect(screen.queryByRole("tooltip")).toBeNull();
    act(() => button.focus());
    expect(button.getAttribute("aria-describedby")).toBe(screen.getByRole("tooltip").id);
  });

  it("adds a code as typed and removes one by its × button, each by putting the whole list", async () => {
    const { calls, user } = strip(["AAPL.US"]);
    await screen.findByRole("button", { name: /AAPL.US \$189.84/ });
    await user.type(screen.getByRole("textbox", { name: "Code to watch" }), "vod.uk");
    await user.click(screen.getByRole("button", { name: "Add to watchlist" }));
    await waitFor(() => expect(within(ticker("VOD.UK")).getByTestId("ticker-price").textContent).toBe("72.10 GBX"));
    expect(screen.getByRole<HTMLInputElement>("textbox", { name: "Code to watch" }).value).toBe("");

    await user.click(screen.getByRole("button", { name: "Remove AAPL.US from watchlist" }));
    await waitFor(() => expect(screen.getAllByTestId("ticker").map((t) => t.dataset.symbol)).toEqual(["VOD.UK"]));
    expect(calls.filter((c) => c.method === "PUT").map((c) => c.body)).toEqual([{ symbols: ["AAPL.US", "vod.uk"] }, { symbols: ["VOD.UK"] }]);

    // The server's refusal is said, and the code stays typed to fix.
    await user.type(screen.getByRole("textbox", { name: "Code to watch" }), "??");
    await user.click(screen.getByRole("button", { name: "Add to watchlist" }));
    expect((await screen.findByRole("alert")).textContent).toBe("'??' is not a valid stock code");
    expect(screen.getByRole<HTMLInputElement>("textbox", { name: "Code to watch" }).value).toBe("??");
  });

  it("says how to start when nothing is watched", async () => {
    strip([]);
    expect((await screen.findByTestId("ticker-empty")).textContent).toBe("Watch a code: /watch AAPL");
  });
});

describe("the ticker strip in the app", () => {
  it("follows the `watchlist` event of another tab or /watch at once", async () => {
    let stored = ["AAPL.US"];
    const routes = watchlistRoutes(stored);
    renderChatApp({
      "GET /api/me": { username: "alice", roles: ["user"] },
      "GET /api/me/channels": { channels: [{ name: "general", created_by: "system", created_at: "" }] },
      "GET /api/channels/general/pins": { messages: [] },
      "GET /api/me/watchlist": () => ({ symbols: stored, quotes: stored.map((s) => PRICES[s]) }),
      "PUT /api/me/watchlist": routes["PUT /api/me/watchlist"],
    });
    const bar = await screen.findByRole("region", { name: "Watchlist" });
    await waitFor(() => expect(within(bar).getAllByTestId("ticker").map((t) => t.dataset.symbol)).toEqual(["AAPL.US"]));
    await waitFor(() => expect(socket.connected).toBe(true));
    stored = ["AAPL.US", "VOD.UK"];
    act(() => socket.fire("watchlist", { symbols: stored }));
    // The code at once, its price with the one request that follows.
    expect(within(bar).getAllByTestId("ticker").map((t) => t.dataset.symbol)).toEqual(["AAPL.US", "VOD.UK"]);
    await waitFor(() => expect(within(ticker("VOD.UK")).getByTestId("ticker-price").textContent).toBe("72.10 GBX"));
    act(() => socket.fire("watchlist", { symbols: [] }));
    expect(within(bar).getByTestId("ticker-empty").textContent).toBe("Watch a code: /watch AAPL");
  });
});
