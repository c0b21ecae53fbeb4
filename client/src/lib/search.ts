/**
 * Message search (GET /api/search, docs/protocol.md): reading the search box's `in:` and `from:`,
 * marking the words a hit matched as the server matches them, and bringing a hit into its
 * channel's timeline, older pages first, so the list can scroll to it.
 */
import { dmPeer, isDm } from "./access";
import { splitCashtags } from "./cashtags";
import type { ChatState } from "./chatState";
import { sameUser } from "./ids";
import type { Message } from "./types";

/** What the search box asks the server for. */
export interface SearchRequest {
  /** Words and `$TICKER`s, sent as typed: the server splits them as it indexes messages. */
  q: string;
  /** A channel's name, from `in:#name` (or `in:@person` for the DM with them) or the channel menu. */
  channel?: string;
  /** A username, from `from:@name`. */
  user?: string;
}

/** The box's text split into the words to find and the filters written among them. */
export interface ParsedQuery {
  q: string;
  /** As written after `in:`, without `#` ("@bob" stays "@bob": a DM). */
  in?: string;
  /** As written after `from:`, without `@`. */
  from?: string;
}

const FILTER = /^(in|from):(\S*)$/i;

/** `deal in:#desk from:@alice $TSLA` → q "deal $TSLA", in "desk", from "alice"; the last of a filter wins. */
export function parseQuery(text: string): ParsedQuery {
  const rest: string[] = [];
  const out: ParsedQuery = { q: "" };
  for (const token of text.split(/\s+/)) {
    const m = FILTER.exec(token);
    const value = m?.[2];
    if (!m || !value) {
      if (token) rest.push(token);
      continue;
    }
    if (m[1]!.toLowerCase() === "in") out.in = value.replace(/^#/, "");
    else out.from = value.replace(/^@/, "");
  }
  out.q = rest.join(" ");
  return out;
}

/**
 * The channel `in:` names among those the user can see: by name (any letter case), or `@person`
 * for the DM with them. Undefined when there is none of that name.
 */
export function resolveChannel(written: string, chat: Pick<ChatState, "channels" | "me">): string | undefined {
  const want = written.toLowerCase();
  if (want.startsWith("@")) return chat.channels.find((c) => isDm(c) && sameUser(dmPeer(c, chat.me), want.slice(1)))?.name;
  return chat.channels.find((c) => c.name.toLowerCase() === want)?.name;
}

/** A word as the server compares it (core/textscan.py `fold`): lower-cased, accents and apostrophes dropped. */
export function fold(word: string): string {
  return word.normalize("NFKD").toLowerCase().replace(/[\p{M}'’]/gu, "");
}

/** Words as search matches them (core/textscan.py `WORD`): letters and digits, apostrophes inside kept. */
const WORD = /[\p{L}\p{N}\p{M}]+(?:['’][\p{L}\p{N}\p{M}]+)*/gu;

/** What a query matches: its folded words and its cashtags' codes (upper-cased, without `$`). */
export interface Terms {
  words: Set<string>;
  cashtags: Set<string>;
}

export function termsOf(q: string): Terms {
  const cashtags = new Set<string>();
  let plain = "";
  for (const s of splitCashtags(q, Number.POSITIVE_INFINITY)) {
    if (s.kind === "cashtag") cashtags.add(s.symbol);
    else plain += ` ${s.text} `;
  }
  return { words: new Set([...plain.matchAll(WORD)].map((m) => fold(m[0])).filter(Boolean)), cashtags };
}

/** A stretch of a hit's text, matched (shown marked) or not. Joined, the stretches are the text. */
export interface Stretch {
  text: string;
  hit: boolean;
}

/** The text in stretches, its whole words and cashtags that the query matched marked. */
export function markMatches(text: string, terms: Terms): Stretch[] {
  const ranges: Array<[number, number]> = [];
  if (terms.cashtags.size) {
    let at = 0;
    for (const s of splitCashtags(text, Number.POSITIVE_INFINITY)) {
      const len = s.kind === "cashtag" ? s.raw.length : s.text.length;
      if (s.kind === "cashtag" && terms.cashtags.has(s.symbol)) ranges.push([at, at + len]);
      at += len;
    }
  }
  if (terms.words.size) {
    for (const m of text.matchAll(WORD)) {
      if (terms.words.has(fold(m[0]))) ranges.push([m.index, m.index + m[0].length]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const out: Stretch[] = [];
  let last = 0;
  for (const [start, end] of ranges) {
    if (end <= last) continue;
    const from = Math.max(start, last);
    if (from > last) out.push({ text: text.slice(last, from), hit: false });
    out.push({ text: text.slice(from, end), hit: true });
    last = end;
  }
  if (last < text.length) out.push({ text: text.slice(last), hit: false });
  return out;
}

/** Later pages appended to what is shown, each message once (a message edited between two pages may come twice). */
export function appendHits(shown: readonly Message[], page: readonly Message[]): Message[] {
  const seen = new Set(shown.map((m) => m.id));
  return [...shown, ...page.filter((m) => !seen.has(m.id))];
}

/** Older pages loaded at most to reach a hit; past that it stays in the results. */
export const MAX_PAGES = 40;

/** The part of ChatClient that bringing a message into its timeline needs. */
export interface TimelineSource {
  getSnapshot: () => { chat: ChatState };
  subscribe: (fn: () => void) => () => void;
  loadOlder: (channel: string) => Promise<void>;
}

/**
 * Where a hit stands once its channel is open: `found` (in the timeline now; `id` is the row to
 * show: the message, or a reply's thread root), `too_far` (more than MAX_PAGES pages back),
 * `missing` (not in the timeline: deleted since, say), `failed` (the channel did not open or a
 * page did not load; `error` says why), `cancelled` (the reader moved on: another hit, the panel closed).
 */
export type Reveal =
  | { outcome: "found"; id: string }
  | { outcome: "too_far" | "missing" | "cancelled" }
  | { outcome: "failed"; error: string };

/**
 * Load older pages of the hit's channel (already selected) until the hit is in its timeline. A
 * reply lives in its thread, so its root is what is looked for, known to be older than the reply.
 * `onPage` hears of each page asked for; `signal` stops the paging.
 */
export async function revealMessage(
  source: TimelineSource,
  hit: Message,
  {
    maxPages = MAX_PAGES,
    joinTimeoutMs = 15_000,
    onPage,
    signal,
  }: { maxPages?: number; joinTimeoutMs?: number; onPage?: (n: number) => void; signal?: AbortSignal } = {},
): Promise<Reveal> {
  const channel = hit.channel;
  const id = hit.reply_to ?? hit.id;
  if (!id || hit.seq === undefined) return { outcome: "missing" };
  if (!(await joined(source, channel, joinTimeoutMs))) return { outcome: "failed", error: `Could not open #${channel}.` };
  for (let pages = 0; ; pages++) {
    if (signal?.aborted) return { outcome: "cancelled" };
    const st = source.getSnapshot().chat.byChannel[channel];
    if (!st) return { outcome: "failed", error: `#${channel} is no longer available to you.` };
    if (st.items.some((i) => i.id === id)) return { outcome: "found", id };
    const first = st.items.find((i) => i.seq !== undefined)?.seq;
    // The message itself would be loaded by now (a thread's root has no such bound).
    if (!st.hasMore || (!hit.reply_to && first !== undefined && first <= hit.seq)) return { outcome: "missing" };
    if (pages >= maxPages) return { outcome: "too_far" };
    onPage?.(pages + 1);
    try {
      await source.loadOlder(channel);
    } catch (e) {
      return { outcome: "failed", error: e instanceof Error ? e.message : "Could not load older messages." };
    }
  }
}

/** Resolves true once the channel's join has come back, false if it has not within `timeoutMs`. */
function joined(source: TimelineSource, channel: string, timeoutMs: number): Promise<boolean> {
  const ready = () => !!source.getSnapshot().chat.byChannel[channel]?.joined;
  if (ready()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      stop();
      resolve(ok);
    };
    const stop = source.subscribe(() => {
      if (ready()) done(true);
    });
    const timer = setTimeout(() => done(ready()), timeoutMs);
  });
}

/**
 * A message for the open channel's list to scroll to, mark for a moment and focus; `thread`: it
 * is a thread's root, shown with its thread open (the hit was a reply). Each jump has a new `nonce`.
 */
export interface JumpTarget {
  channel: string;
  id: string;
  thread: boolean;
  nonce: number;
}
