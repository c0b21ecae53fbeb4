/**
 * The cashtag chips' quotes: one small store that batches, deduplicates and caches requests to
 * `GET /api/quotes` so a screen full of chips costs a request or two, not one per chip.
 *
 * - Symbols asked for within `batchMs` (50 ms) go out together, at most `maxBatch` (10) a request.
 * - A symbol already cached (fresh for `ttlMs`, 15 s, the server's max-age) or in flight is not
 *   asked for again. Unknown codes are cached too (a negative cache), for 5 minutes.
 * - While chips are on screen their symbols are refreshed soon after they expire (checked every
 *   ttl/3); an expired entry keeps showing until the new one arrives.
 * - On 429 the store waits (1 s, doubling to 60 s, reset by the next success) and asks again;
 *   other failures are retried the same way a few times, then shown as unavailable.
 */
import type { Quote, QuotesResponse } from "./types";

export type QuoteEntry =
  | { status: "loading" }
  | { status: "ok"; quote: Quote; fetchedAt: number }
  | { status: "error"; code: string; message: string; fetchedAt: number };

export type FetchQuotes = (symbols: string[]) => Promise<QuotesResponse>;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface QuoteStoreOptions {
  ttlMs?: number;
  /** How long an unknown or invalid code is remembered as such (the negative cache). */
  unknownTtlMs?: number;
  batchMs?: number;
  maxBatch?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Failed attempts (other than 429) before a symbol is shown as unavailable. */
  maxFailures?: number;
  clock?: Clock;
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Upper-case and trimmed: `$aapl` and `$AAPL` are one symbol. */
export function normalizeSymbol(symbol: string): string {
  return symbol.trim().toUpperCase();
}

function statusOf(err: unknown): number {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === "number" ? s : 0;
}

export class QuoteStore {
  private readonly fetchQuotes: FetchQuotes;
  private readonly ttl: number;
  private readonly unknownTtl: number;
  private readonly batchMs: number;
  private readonly maxBatch: number;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private readonly maxFailures: number;
  private readonly clock: Clock;

  private readonly entries = new Map<string, QuoteEntry>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly pending = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly failures = new Map<string, number>();
  private flushTimer: unknown = null;
  private refreshTimer: unknown = null;
  private blockedUntil = 0;
  private backoff = 0;
  /** Requests sent, for tests and diagnostics. */
  requests = 0;

  constructor(fetchQuotes: FetchQuotes, opts: QuoteStoreOptions = {}) {
    this.fetchQuotes = fetchQuotes;
    this.ttl = opts.ttlMs ?? 15_000;
    this.unknownTtl = opts.unknownTtlMs ?? 300_000;
    this.batchMs = opts.batchMs ?? 50;
    this.maxBatch = opts.maxBatch ?? 10;
    this.minBackoff = opts.minBackoffMs ?? 1_000;
    this.maxBackoff = opts.maxBackoffMs ?? 60_000;
    this.maxFailures = opts.maxFailures ?? 3;
    this.clock = opts.clock ?? realClock;
  }

  /** The current entry of a symbol (a stable object until it changes), or undefined. */
  get(symbol: string): QuoteEntry | undefined {
    return this.entries.get(normalizeSymbol(symbol));
  }

  /** Watch a symbol: it is fetched if needed and kept fresh while anyone listens. */
  subscribe(symbol: string, listener: () => void): () => void {
    const key = normalizeSymbol(symbol);
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    this.ensure(key);
    this.scheduleRefresh();
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  /** Ask for a symbol unless it is fresh, queued or on its way. */
  ensure(symbol: string): void {
    const key = normalizeSymbol(symbol);
    if (!key || this.pending.has(key) || this.inFlight.has(key)) return;
    const entry = this.entries.get(key);
    if (entry && entry.status !== "loading" && this.clock.now() - entry.fetchedAt < this.ttlOf(entry)) return;
    if (!entry) this.set(key, { status: "loading" });
    this.pending.add(key);
    this.scheduleFlush();
  }

  /** A code the server does not know stays unknown a while; an outage may pass sooner. */
  private ttlOf(entry: QuoteEntry): number {
    return entry.status === "error" && entry.code !== "unavailable" ? this.unknownTtl : this.ttl;
  }

  private set(key: string, entry: QuoteEntry): void {
    this.entries.set(key, entry);
    for (const fn of [...(this.listeners.get(key) ?? [])]) fn();
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== null || this.pending.size === 0) return;
    const wait = Math.max(this.batchMs, this.blockedUntil - this.clock.now());
    this.flushTimer = this.clock.setTimeout(() => {
      this.flushTimer = null;
      this.flush();
    }, wait);
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer !== null || this.listeners.size === 0) return;
    this.refreshTimer = this.clock.setTimeout(() => {
      this.refreshTimer = null;
      for (const key of this.listeners.keys()) this.ensure(key);
      this.scheduleRefresh();
    }, Math.max(1_000, this.ttl / 3));
  }

  private flush(): void {
    if (this.clock.now() < this.blockedUntil) {
      this.scheduleFlush();
      return;
    }
    const keys = [...this.pending];
    this.pending.clear();
    for (let i = 0; i < keys.length; i += this.maxBatch) void this.send(keys.slice(i, i + this.maxBatch));
  }

  private async send(keys: string[]): Promise<void> {
    for (const k of keys) this.inFlight.add(k);
    this.requests++;
    let body: QuotesResponse;
    try {
      body = await this.fetchQuotes(keys);
    } catch (err) {
      for (const k of keys) this.inFlight.delete(k);
      this.failed(keys, err);
      return;
    }
    for (const k of keys) this.inFlight.delete(k);
    this.backoff = 0;
    const now = this.clock.now();
    const bySymbol = new Map((body.quotes ?? []).map((q) => [q.symbol, q]));
    const errors = new Map((body.errors ?? []).map((e) => [normalizeSymbol(e.symbol), e]));
    for (const k of keys) {
      const resolved = body.resolved?.[k];
      const quote = (resolved !== undefined ? bySymbol.get(resolved) : undefined) ?? bySymbol.get(k);
      this.failures.delete(k);
      if (quote) {
        this.set(k, { status: "ok", quote, fetchedAt: now });
        continue;
      }
      const e = errors.get(k);
      this.set(k, {
        status: "error",
        code: e?.code ?? "unknown_symbol",
        message: e?.message ?? "No quote for this code",
        fetchedAt: now,
      });
    }
  }

  private failed(keys: string[], err: unknown): void {
    const status = statusOf(err);
    this.backoff = this.backoff ? Math.min(this.backoff * 2, this.maxBackoff) : this.minBackoff;
    this.blockedUntil = this.clock.now() + this.backoff;
    const now = this.clock.now();
    for (const k of keys) {
      const tries = (this.failures.get(k) ?? 0) + 1;
      // A 400 will not get better by asking again; anything else may, 429 always does.
      const retry = status === 429 || (status !== 400 && tries < this.maxFailures);
      if (retry) {
        if (status !== 429) this.failures.set(k, tries);
        this.pending.add(k);
        continue;
      }
      this.failures.delete(k);
      const prev = this.entries.get(k);
      // Keep showing a quote we have; the refresh will try again later.
      if (prev?.status === "ok") this.set(k, { ...prev, fetchedAt: now });
      else
        this.set(k, {
          status: "error",
          code: status === 400 ? "invalid_parameter" : "unavailable",
          message: status === 400 ? "Not a valid code" : "Quotes are unavailable right now",
          fetchedAt: now,
        });
    }
    this.scheduleFlush();
  }
}
