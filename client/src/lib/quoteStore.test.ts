import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "./api";
import { QuoteStore } from "./quoteStore";
import type { Quote, QuotesResponse } from "./types";

function quote(symbol: string, price = "93.42"): Quote {
  return {
    symbol,
    price,
    currency: "USD",
    change: "1.32",
    change_pct: "1.43",
    as_of: "2026-03-02T21:00:00Z",
    market_state: "closed",
    source: "stooq",
    series: [],
  };
}

/** A fake /api/quotes: AAPL -> AAPL.US, VOD.L -> VOD.UK, anything starting with X is unknown. */
function fakeServer() {
  const calls: string[][] = [];
  let failNext: number[] = [];
  const fetch = vi.fn((symbols: string[]): Promise<QuotesResponse> => {
    calls.push(symbols);
    const status = failNext.shift();
    if (status) return Promise.reject(new ApiError(status, { code: status === 429 ? "rate_limited" : "boom", message: "no" }));
    const body: QuotesResponse = { quotes: [], errors: [], resolved: {} };
    for (const s of symbols) {
      if (s.startsWith("X")) {
        body.errors.push({ symbol: s, code: "unknown_symbol", message: `No such code ${s}` });
        continue;
      }
      const resolved = s.includes(".") ? s.replace(".L", ".UK") : `${s}.US`;
      body.resolved[s] = resolved;
      if (!body.quotes.some((q) => q.symbol === resolved)) body.quotes.push(quote(resolved));
    }
    return Promise.resolve(body);
  });
  return { fetch, calls, fail: (...statuses: number[]) => (failNext = statuses) };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("QuoteStore", () => {
  it("coalesces symbols asked for within 50 ms into one deduplicated request", async () => {
    const srv = fakeServer();
    const store = new QuoteStore(srv.fetch);
    const seen: string[] = [];
    store.subscribe("AAPL", () => seen.push("a1"));
    store.subscribe("aapl", () => seen.push("a2"));
    await vi.advanceTimersByTimeAsync(20);
    store.subscribe("VOD.L", () => {});
    store.ensure("AAPL");
    expect(store.get("AAPL")).toEqual({ status: "loading" });
    expect(srv.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(50);
    expect(srv.calls).toEqual([["AAPL", "VOD.L"]]);
    const entry = store.get("aapl");
    expect(entry?.status).toBe("ok");
    expect(entry?.status === "ok" && entry.quote.symbol).toBe("AAPL.US");
    expect(store.get("VOD.L")?.status === "ok" && store.get("VOD.L")).toMatchObject({ quote: { symbol: "VOD.UK" } });
    // a1 heard "loading" when it subscribed first; then both heard the quote once.
    expect(seen).toEqual(["a1", "a1", "a2"]);
  });

  it("sends at most 10 symbols a request", async () => {
    const srv = fakeServer();
    const store = new QuoteStore(srv.fetch);
    const symbols = Array.from({ length: 23 }, (_, i) => `S${i}`);
    for (const s of symbols) store.ensure(s);
    await vi.advanceTimersByTimeAsync(60);
    expect(srv.calls.map((c) => c.length)).toEqual([10, 10, 3]);
    expect(srv.calls.flat()).toEqual(symbols);
  });

  it("serves from cache for 15 s, then asks again", async () => {
    const srv = fakeServer();
    const store = new QuoteStore(srv.fetch);
    store.ensure("AAPL");
    await vi.advanceTimersByTimeAsync(60);
    const first = store.get("AAPL");
    await vi.advanceTimersByTimeAsync(10_000);
    store.ensure("AAPL");
    await vi.advanceTimersByTimeAsync(60);
    expect(srv.calls).toHaveLength(1);
    expect(store.get("AAPL")).toBe(first); // stable reference for useSyncExternalStore
    await vi.advanceTimersByTimeAsync(5_000);
    store.ensure("AAPL");
    expect(store.get("AAPL")).toBe(first); // the old quote shows until the new one lands
    await vi.advanceTimersByTimeAsync(60);
    expect(srv.calls).toHaveLength(2);
    expect(store.get("AAPL")).not.toBe(first);
  });

  it("does not ask again for a symbol already in flight", async () => {
    let release!: (b: QuotesResponse) => void;
    const fetch = vi.fn(
      (symbols: string[]) =>
        new Promise<QuotesResponse>((resolve) => {
          release = resolve;
          void symbols;
        }),
    );
    const store = new QuoteStore(fetch);
    store.ensure("AAPL");
    await vi.advanceTimersByTimeAsync(60);
    store.ensure("AAPL");
    await vi.advanceTimersByTimeAsync(60);
    expect(fetch).toHaveBeenCalledTimes(1);
    release({ quotes: [quote("AAPL.US")], errors: [], resolved: { AAPL: "AAPL.US" } });
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get("AAPL")?.status).toBe("ok");
  });

  it("caches unknown codes as errors (a negative cache)", async () => {
    const srv = fakeServer();
    const store = new QuoteStore(srv.fetch);
    store.ensure("XNOPE");
    store.ensure("AAPL");
    await vi.advanceTimersByTimeAsync(60);
    expect(store.get("XNOPE")).toMatchObject({ status: "error", code: "unknown_symbol" });
    await vi.advanceTimersByTimeAsync(60_000);
    store.ensure("XNOPE");
    await vi.advanceTimersByTimeAsync(60);
    expect(srv.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(300_000);
    store.ensure("XNOPE");
    await vi.advanceTimersByTimeAsync(60);
    expect(srv.calls).toHaveLength(2);
  });

  it("backs off on 429 and then gets the quotes", async () => {
    const srv = fakeServer();
    const store = new QuoteStore(srv.fetch);
    srv.fail(429, 429);
    store.ensure("AAPL");
    await vi.advanceTimersByTimeAsync(60);
    expect(srv.calls).toHaveLength(1);
    expect(store.get("AAPL")).toEqual({ status: "loading" });
    // More symbols during the back-off wait for it, then go out together.
    store.ensure("MSFT");
    await vi.advanceTimersByTimeAsync(900);
    expect(srv.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200); // 1 s after the 429
    expect(srv.calls).toHaveLength(2);
    expect(srv.calls[1]).toEqual(["AAPL", "MSFT"]);
    await vi.advanceTimersByTimeAsync(1_500); // second 429: now 2 s
    expect(srv.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(600);
    expect(srv.calls).toHaveLength(3);
    expect(store.get("AAPL")?.status).toBe("ok");
    expect(store.get("MSFT")?.status).toBe("ok");
  });

  it("gives up after a few failures and shows the symbol as unavailable", async () => {
    const srv = fakeServer();
    const store = new QuoteStore(srv.fetch, { maxFailures: 2 });
    srv.fail(503, 503);
    store.ensure("AAPL");
    await vi.advanceTimersByTimeAsync(60);
    await vi.advanceTimersByTimeAsync(1_100);
    expect(srv.calls).toHaveLength(2);
    expect(store.get("AAPL")).toMatchObject({ status: "error", code: "unavailable" });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(srv.calls).toHaveLength(2);
  });

  it("keeps a known quote when a refresh fails", async () => {
    const srv = fakeServer();
    const store = new QuoteStore(srv.fetch, { maxFailures: 1 });
    store.ensure("AAPL");
    await vi.advanceTimersByTimeAsync(60);
    await vi.advanceTimersByTimeAsync(15_000);
    srv.fail(500);
    store.ensure("AAPL");
    await vi.advanceTimersByTimeAsync(60);
    expect(srv.calls).toHaveLength(2);
    expect(store.get("AAPL")?.status).toBe("ok");
  });

  it("refreshes watched symbols when they expire and stops when nobody watches", async () => {
    const srv = fakeServer();
    const store = new QuoteStore(srv.fetch);
    const stop = store.subscribe("AAPL", () => {});
    await vi.advanceTimersByTimeAsync(60);
    expect(srv.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(14_000);
    expect(srv.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(6_100); // expired at 15 s, noticed within 5 s
    expect(srv.calls).toHaveLength(2);
    stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(srv.calls).toHaveLength(2);
  });
});
