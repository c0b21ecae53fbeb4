/**
 * Which channels the web client joins, and when. Joining every channel at once broke the client on
 * a server with many of them (joins past the event budget refused, the client cut off as a flooder,
 * reconnecting and repeating): it now joins the open channel at once, at most MAX_BACKGROUND_JOINS
 * others in the background a few at a time (those it has seen activity in first), every other one when
 * opened, and retries a refused join later.
 */
/** Channel name -> the user's read mark there (the server's, GET /api/me/channels). */
export type ReadMarks = Readonly<Record<string, number>>;

/** Channels joined in the background besides the open one: a small chat's all, a spammed one's few. */
export const MAX_BACKGROUND_JOINS = 20;
/** Joins in flight at once. */
export const JOIN_CONCURRENCY = 3;
/** After `rate_limited`, wait this long before asking again, doubling each time up to the maximum. */
export const JOIN_BACKOFF_FIRST_MS = 1_000;
export const JOIN_BACKOFF_MAX_MS = 30_000;

/**
 * Whether the client can keep a channel of this name: not one every JavaScript object already answers
 * (`__proto__`, `constructor`), which the state's plain-object maps would mistake for a channel they
 * hold. The server refuses such names now; channels made before are left out of the list.
 */
export function usableChannelName(name: string): boolean {
  return !(name in Object.prototype);
}

/**
 * The channels to join in the background besides `current`, at most `max`: first those the user has
 * read in (a read mark past 0), then the others in list order. A spammer's hundred
 * channels cost the client `max` joins at most; the rest are joined when opened.
 */
export function backgroundJoins(
  names: readonly string[],
  current: string | null,
  readMarks: ReadMarks,
  max: number = MAX_BACKGROUND_JOINS,
): string[] {
  const others = names.filter((name) => name !== current);
  const read = others.filter((name) => Object.hasOwn(readMarks, name) && (readMarks[name] ?? 0) > 0);
  const chosen = new Set(read.slice(0, max));
  for (const name of others) {
    if (chosen.size >= max) break;
    chosen.add(name);
  }
  return [...chosen];
}

/** What one join attempt came to: joined, refused for now (`rate_limited`: try later), or given up. */
export type JoinOutcome = "ok" | "retry" | "failed";

export interface JoinQueueOptions {
  concurrency?: number;
  firstBackoffMs?: number;
  maxBackoffMs?: number;
  /** 0..1; spreads retries so many clients refused together do not come back together. */
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/** Delay before retry number `attempt` (1, 2, …): doubling from `first`, capped, plus up to a quarter. */
export function joinBackoffMs(attempt: number, first: number, max: number, random: number): number {
  const base = Math.min(max, first * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (1 + random / 4));
}

/**
 * Joins run a few at a time, urgent ones (the channel being opened) first; a join answered
 * `rate_limited` is asked again after a growing pause, never in a tight loop.
 */
export class JoinQueue {
  private readonly queue: string[] = [];
  private readonly active = new Set<string>();
  private readonly attempts = new Map<string, number>();
  private readonly timers = new Map<string, unknown>();
  private readonly opts: Required<JoinQueueOptions>;

  constructor(
    private readonly run: (channel: string) => Promise<JoinOutcome>,
    options: JoinQueueOptions = {},
  ) {
    this.opts = {
      concurrency: JOIN_CONCURRENCY,
      firstBackoffMs: JOIN_BACKOFF_FIRST_MS,
      maxBackoffMs: JOIN_BACKOFF_MAX_MS,
      random: Math.random,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      ...options,
    };
  }

  /** Ask for a join; `urgent` puts it before the background ones (and before its own pending retry). */
  request(channel: string, urgent = false): void {
    if (this.active.has(channel)) return;
    const at = this.queue.indexOf(channel);
    if (at >= 0) {
      if (!urgent) return;
      this.queue.splice(at, 1);
    }
    if (urgent) {
      const timer = this.timers.get(channel);
      if (timer !== undefined) this.opts.clearTimer(timer);
      this.timers.delete(channel);
      this.queue.unshift(channel);
    } else if (!this.timers.has(channel)) {
      this.queue.push(channel);
    }
    this.pump();
  }

  /** Drop a channel from the queue and its pending retry (it was deleted). */
  forget(channel: string): void {
    const at = this.queue.indexOf(channel);
    if (at >= 0) this.queue.splice(at, 1);
    const timer = this.timers.get(channel);
    if (timer !== undefined) this.opts.clearTimer(timer);
    this.timers.delete(channel);
    this.attempts.delete(channel);
  }

  /** Drop everything waiting (the connection went; the next one plans its joins anew). */
  clear(): void {
    for (const channel of [...this.queue, ...this.timers.keys()]) this.forget(channel);
  }

  /** Channels waiting to be joined or to be retried (for tests and the UI). */
  pending(): string[] {
    return [...this.active, ...this.queue, ...this.timers.keys()];
  }

  private pump(): void {
    while (this.active.size < this.opts.concurrency && this.queue.length > 0) {
      const channel = this.queue.shift()!;
      this.active.add(channel);
      void this.run(channel)
        .catch((): JoinOutcome => "failed")
        .then((outcome) => this.finished(channel, outcome));
    }
  }

  private finished(channel: string, outcome: JoinOutcome): void {
    this.active.delete(channel);
    if (outcome === "retry") {
      const attempt = (this.attempts.get(channel) ?? 0) + 1;
      this.attempts.set(channel, attempt);
      const { firstBackoffMs, maxBackoffMs } = this.opts;
      const delay = joinBackoffMs(attempt, firstBackoffMs, maxBackoffMs, this.opts.random());
      const timer = this.opts.setTimer(() => {
        this.timers.delete(channel);
        this.request(channel);
      }, delay);
      this.timers.set(channel, timer);
    } else {
      this.attempts.delete(channel);
    }
    this.pump();
  }
}
