/**
 * The ticker strip's state: the user's watchlist with a quote (or an error) per code, from
 * GET /api/me/watchlist?quotes=true. One request brings every code's quote from the server's shared
 * cache, polled every 30 s while the page is in sight and anyone shows the strip; a `watchlist`
 * event (another tab, /watch, /unwatch) changes the codes at once.
 */
import type { Quote, WatchlistResponse } from "./types";

export interface WatchError {
  code: string;
  message: string;
}

export interface WatchlistState {
  /** Codes as the server normalizes them ("AAPL.US"), in the user's order. */
  symbols: string[];
  quotes: Readonly<Record<string, Quote>>;
  errors: Readonly<Record<string, WatchError>>;
  /** The first answer came. */
  loaded: boolean;
  /** Why the last refresh failed; null once one succeeds. */
  failed: string | null;
}

export interface WatchlistApi {
  get(): Promise<WatchlistResponse>;
  put(symbols: string[]): Promise<{ symbols: string[] }>;
}

export interface WatchlistOptions {
  intervalMs?: number;
  /** Whether the page is in sight (document.visibilityState). */
  visible?: () => boolean;
  now?: () => number;
}

export const POLL_MS = 30_000;

const empty: WatchlistState = { symbols: [], quotes: {}, errors: {}, loaded: false, failed: null };

export class Watchlist {
  private state: WatchlistState = empty;
  private readonly listeners = new Set<() => void>();
  private readonly intervalMs: number;
  private readonly visible: () => boolean;
  private readonly now: () => number;
  private timer: ReturnType<typeof setInterval> | null = null;
  private inFlight: Promise<void> | null = null;
  private again = false;
  /** Bumped by every change of the codes, so an answer asked for before one does not undo it. */
  private version = 0;
  private lastFetch = -Infinity;

  constructor(
    private readonly api: WatchlistApi,
    opts: WatchlistOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? POLL_MS;
    this.visible = opts.visible ?? (() => typeof document === "undefined" || document.visibilityState !== "hidden");
    this.now = opts.now ?? (() => Date.now());
  }

  getSnapshot = (): WatchlistState => this.state;

  /** Watch the list: the first listener starts the polling, the last one gone stops it. */
  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    if (this.listeners.size === 1) this.start();
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0) this.halt();
    };
  };

  private set(patch: Partial<WatchlistState>): void {
    this.state = { ...this.state, ...patch };
    for (const fn of [...this.listeners]) fn();
  }

  private start(): void {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    if (typeof document !== "undefined") document.addEventListener("visibilitychange", this.onVisibility);
    void this.refresh();
  }

  private halt(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (typeof document !== "undefined") document.removeEventListener("visibilitychange", this.onVisibility);
  }

  /** Out of sight nobody reads the prices: no request until the page is back. */
  private tick(): void {
    if (this.visible()) void this.refresh();
  }

  private readonly onVisibility = (): void => {
    if (this.visible() && this.now() - this.lastFetch >= this.intervalMs) void this.refresh();
  };

  /** Ask for the list and its quotes now; one request at a time, one more if asked meanwhile. */
  refresh(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.fetchOnce().finally(() => {
      this.inFlight = null;
      if (this.again && this.listeners.size > 0) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.inFlight;
  }

  private async fetchOnce(): Promise<void> {
    const asked = this.version;
    this.lastFetch = this.now();
    let body: WatchlistResponse;
    try {
      body = await this.api.get();
    } catch (e) {
      this.set({ failed: e instanceof Error ? e.message : "Could not load the watchlist" });
      return;
    }
    const quotes = { ...this.state.quotes };
    const errors = { ...this.state.errors };
    for (const q of body.quotes ?? []) {
      quotes[q.symbol] = q;
      delete errors[q.symbol];
    }
    for (const e of body.errors ?? []) {
      errors[e.symbol] = { code: e.code, message: e.message };
      delete quotes[e.symbol];
    }
    // Codes changed while this was on its way (an event, our own PUT): theirs stand.
    const symbols = asked === this.version ? body.symbols : this.state.symbols;
    this.set({ symbols, quotes, errors, loaded: true, failed: null });
  }

  /** The `watchlist` event: the codes at once, quotes for new ones with the next request, made now. */
  received(symbols: unknown): void {
    if (!Array.isArray(symbols)) return;
    this.changed(symbols.filter((s): s is string => typeof s === "string"));
  }

  private changed(symbols: string[]): void {
    this.version++;
    const fresh = symbols.some((s) => !(s in this.state.quotes) && !(s in this.state.errors));
    this.set({ symbols, loaded: true });
    if (fresh) void this.refresh();
  }

  /** Add a code as typed ("aapl"); the server normalizes it or refuses it (ApiError: invalid_symbol, watchlist_full). */
  async add(code: string): Promise<void> {
    const c = code.trim().replace(/^\$/, "");
    if (!c) return;
    // A PUT replaces the whole list: never one built on a list not yet read.
    if (!this.state.loaded) await this.refresh();
    if (!this.state.loaded) throw new Error(this.state.failed ?? "The watchlist has not loaded yet");
    // "aapl" beside "AAPL.US" is one code to the server, which answers the list without repeats.
    const { symbols } = await this.api.put([...this.state.symbols, c]);
    this.changed(symbols);
  }

  async remove(symbol: string): Promise<void> {
    const { symbols } = await this.api.put(this.state.symbols.filter((s) => s !== symbol));
    this.changed(symbols);
  }
}
