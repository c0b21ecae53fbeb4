// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "./api";
import type { Quote, WatchlistResponse } from "./types";
import { POLL_MS, Watchlist } from "./watchlist";

function quote(symbol: string, price: string): Quote {
  return { symbol, price, currency: "USD", change: "1.00", change_pct: "0.50", as_of: "2026-03-02T21:00:00Z", market_state: "open", source: "stooq", series: [] };
}

/** A fake of the watchlist endpoints: the list as stored, a price per code, XX unknown. */
function fakeServer(initial: string[]) {
  let symbols = [...initial];
  const gets: number[] = [];
  const puts: string[][] = [];
  const prices: Record<string, string> = { "AAPL.US": "189.84", "MSFT.US": "410.10", "VOD.UK": "72.10" };
  const api = {
    get: vi.fn((): Promise<WatchlistResponse> => {
      gets.push(Date.now());
      const quotes = symbols.filter((s) => prices[s]).map((s) => quote(s, prices[s]!));
      const errors = symbols.filter((s) => !prices[s]).map((s) => ({ symbol: s, code: "unknown_symbol", message: `No such code ${s}` }));
      return Promise.resolve({ symbols: [...symbols], quotes, errors });
    }),
    put: vi.fn((next: string[]) => {
      puts.push(next);
      if (next.some((s) => s.startsWith("!"))) return Promise.reject(new ApiError(400, { code: "invalid_symbol", message: "'!' is not a valid stock code" }));
      symbols = [...new Set(next.map((s) => (s.includes(".") ? s.toUpperCase() : `${s.toUpperCase()}.US`)))];
      return Promise.resolve({ symbols: [...symbols] });
    }),
  };
  return { api, gets, puts, prices, setStored: (s: string[]) => (symbols = s) };
}

let hidden = false;
beforeEach(() => {
  vi.useFakeTimers();
  hidden = false;
});
afterEach(() => vi.useRealTimers());

const make = (srv: ReturnType<typeof fakeServer>) => new Watchlist(srv.api, { visible: () => !hidden });

describe("Watchlist", () => {
  it("brings every code's quote in one request and refreshes them every 30 s, only while the page is in sight", async () => {
    const srv = fakeServer(["AAPL.US", "MSFT.US", "XX.US"]);
    const wl = make(srv);
    const stop = wl.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    const s = wl.getSnapshot();
    expect(s.symbols).toEqual(["AAPL.US", "MSFT.US", "XX.US"]);
    expect(s.quotes["AAPL.US"]?.price).toBe("189.84");
    expect(s.errors["XX.US"]?.code).toBe("unknown_symbol");
    expect(srv.gets).toHaveLength(1);

    srv.prices["AAPL.US"] = "190.00";
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(srv.gets).toHaveLength(2);
    expect(wl.getSnapshot().quotes["AAPL.US"]?.price).toBe("190.00");

    hidden = true;
    await vi.advanceTimersByTimeAsync(POLL_MS * 3);
    expect(srv.gets).toHaveLength(2);
    // Back in sight after longer than a period: at once, not at the next tick.
    hidden = false;
    document.dispatchEvent(new Event("visibilitychange"));
    await vi.advanceTimersByTimeAsync(0);
    expect(srv.gets).toHaveLength(3);

    // Nobody shows the strip: no more requests.
    stop();
    await vi.advanceTimersByTimeAsync(POLL_MS * 3);
    expect(srv.gets).toHaveLength(3);
  });

  it("takes the codes of a `watchlist` event at once and asks for the new one's quote", async () => {
    const srv = fakeServer(["AAPL.US"]);
    const wl = make(srv);
    wl.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    srv.setStored(["AAPL.US", "VOD.UK"]);
    wl.received(["AAPL.US", "VOD.UK"]);
    expect(wl.getSnapshot().symbols).toEqual(["AAPL.US", "VOD.UK"]);
    await vi.advanceTimersByTimeAsync(0);
    expect(wl.getSnapshot().quotes["VOD.UK"]?.price).toBe("72.10");
    expect(srv.gets).toHaveLength(2);
    // A code removed elsewhere: gone at once, no request needed.
    wl.received(["VOD.UK"]);
    expect(wl.getSnapshot().symbols).toEqual(["VOD.UK"]);
    await vi.advanceTimersByTimeAsync(0);
    expect(srv.gets).toHaveLength(2);
  });

  it("keeps codes changed while a refresh was on its way, and asks again for the new code", async () => {
    const srv = fakeServer(["AAPL.US"]);
    const answers: Array<(b: WatchlistResponse) => void> = [];
    const wl = make(srv);
    wl.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    srv.api.get.mockImplementation(() => new Promise((r) => answers.push(r)));
    const slow = wl.refresh();
    wl.received(["AAPL.US", "MSFT.US"]);
    // The answer to a question asked before the event: its quotes count, its codes do not.
    answers[0]!({ symbols: ["AAPL.US"], quotes: [quote("AAPL.US", "191.00")] });
    await slow;
    expect(wl.getSnapshot().symbols).toEqual(["AAPL.US", "MSFT.US"]);
    expect(wl.getSnapshot().quotes["AAPL.US"]?.price).toBe("191.00");
    expect(answers).toHaveLength(2);
    answers[1]!({ symbols: ["AAPL.US", "MSFT.US"], quotes: [quote("AAPL.US", "191.00"), quote("MSFT.US", "410.10")] });
    await vi.advanceTimersByTimeAsync(0);
    expect(wl.getSnapshot().quotes["MSFT.US"]?.price).toBe("410.10");
  });

  it("adds and removes a code by putting the whole list, and passes the server's refusal on", async () => {
    const srv = fakeServer(["AAPL.US"]);
    const wl = make(srv);
    wl.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    await wl.add(" msft ");
    expect(srv.puts).toEqual([["AAPL.US", "msft"]]);
    expect(wl.getSnapshot().symbols).toEqual(["AAPL.US", "MSFT.US"]);
    await vi.advanceTimersByTimeAsync(0);
    expect(wl.getSnapshot().quotes["MSFT.US"]?.price).toBe("410.10");
    await wl.remove("AAPL.US");
    expect(srv.puts.at(-1)).toEqual(["MSFT.US"]);
    expect(wl.getSnapshot().symbols).toEqual(["MSFT.US"]);
    await expect(wl.add("!")).rejects.toThrow("not a valid stock code");
    expect(wl.getSnapshot().symbols).toEqual(["MSFT.US"]);
  });

  it("never puts a list it has not read", async () => {
    const srv = fakeServer(["AAPL.US"]);
    srv.api.get.mockRejectedValueOnce(new ApiError(0, { code: "network_error", message: "Cannot reach the server." }));
    srv.api.get.mockRejectedValueOnce(new ApiError(0, { code: "network_error", message: "Cannot reach the server." }));
    const wl = make(srv);
    wl.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(0);
    expect(wl.getSnapshot().failed).toBe("Cannot reach the server.");
    await expect(wl.add("MSFT")).rejects.toThrow("Cannot reach the server.");
    expect(srv.puts).toEqual([]);
  });
});
