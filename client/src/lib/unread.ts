/**
 * Read state, kept by the server so every device agrees (DESIGN.md §9): each channel's read mark and
 * the counts GET /api/me/channels gave for it, plus what arrived live since. Counts are derived, never
 * incremented: a message seen twice (live, then again in a catch-up) is still one message.
 */
import type { TimelineItem } from "./messages";
import { mentionsMe } from "./mentions";
import { sameUser } from "./ids";
import type { MyChannel, ChatNotification } from "./types";

/** A message a notification told of, kept until the mark passes it (its channel may not be joined). */
export interface Noted {
  seq: number;
  mention: boolean;
}

export interface ReadState {
  /** The read mark here: the server's, or further when this device has read on (until it says so). */
  seq: number;
  /**
   * The mark the server is known to hold (its answer to `read`, `read_state`, the channel list); null
   * while it holds none (a channel that appeared live), which the client then tells it (ChatClient).
   */
  stored: number | null;
  /** The server's counts cover messages up to this seq (the channel's last seq when they were taken). */
  counted: number;
  /** The server's count of unread messages in (seq, counted]. */
  unread: number;
  /** The server's count of mentions of the user in (seq, counted]. */
  mentions: number;
  /** Message id -> what a live notification said of it (messages after `counted` only). */
  noted: Record<string, Noted>;
}

export interface Unread {
  count: number;
  mentions: number;
}

export const NOTHING_UNREAD: Unread = { count: 0, mentions: 0 };

/** A channel that appeared live (made, or the user added to it): everything in it counts. */
export const unreadFromStart = (): ReadState => ({ seq: 0, stored: null, counted: 0, unread: 0, mentions: 0, noted: {} });

/** The state the channel list brought, keeping what was noted live after it and a mark this device holds further on. */
export function fromServer(c: MyChannel, held: ReadState | undefined, timeline: Timeline | undefined, me: string): ReadState {
  const noted: Record<string, Noted> = {};
  for (const [id, n] of Object.entries(held?.noted ?? {})) if (n.seq > c.last_seq) noted[id] = n;
  const fresh: ReadState = { seq: c.read_seq, stored: c.read_seq, counted: c.last_seq, unread: c.unread, mentions: c.mentions, noted };
  return held && held.seq > fresh.seq ? moveMark(fresh, held.seq, timeline, me) : fresh;
}

/** The messages of a channel held on this device: its timeline and its threads' replies. */
export interface Timeline {
  items: readonly TimelineItem[];
  threads: Record<string, { replies: readonly TimelineItem[] }>;
}

/** Messages by others held with seq in (after, upTo], and those of them that mention `me`. */
function countHeld(t: Timeline | undefined, after: number, upTo: number, me: string, seen?: Set<string>): Unread {
  let count = 0;
  let mentions = 0;
  const take = (m: TimelineItem) => {
    if (m.seq === undefined || m.ephemeral || m.event || m.deleted || sameUser(m.user, me)) return;
    if (m.id) seen?.add(m.id);
    count += 1;
    if (mentionsMe(m, me)) mentions += 1;
  };
  const items = t?.items ?? [];
  for (let i = items.length - 1; i >= 0; i--) {
    const m = items[i]!;
    if (m.seq === undefined) continue;
    if (m.seq <= after) break; // seq order: nothing older is new
    if (m.seq <= upTo) take(m);
  }
  for (const thread of Object.values(t?.threads ?? {})) {
    for (const r of thread.replies) if (r.seq !== undefined && r.seq > after && r.seq <= upTo) take(r);
  }
  return { count, mentions };
}

/**
 * Unread messages and mentions: the server's counts while the mark is below what they cover, plus the
 * held messages after that, plus what notifications told of and is not held (a channel not joined).
 */
export function unreadOf(r: ReadState | undefined, t: Timeline | undefined, me: string): Unread {
  if (!r) return NOTHING_UNREAD;
  const base = r.seq < r.counted ? { count: r.unread, mentions: r.mentions } : NOTHING_UNREAD;
  const from = Math.max(r.seq, r.counted);
  const held = new Set<string>();
  const live = countHeld(t, from, Infinity, me, held);
  let count = base.count + live.count;
  let mentions = base.mentions + live.mentions;
  for (const [id, n] of Object.entries(r.noted)) {
    if (n.seq <= from || held.has(id)) continue;
    count += 1;
    if (n.mention) mentions += 1;
  }
  return count || mentions ? { count, mentions } : NOTHING_UNREAD;
}

/**
 * The mark moved on to `seq` (read here or on another device): what lies at or below it is read. Part
 * of the server's counts may still lie above it; the held messages tell how much of them did not.
 */
export function moveMark(r: ReadState, seq: number, t: Timeline | undefined, me: string): ReadState {
  if (seq <= r.seq) return r;
  let { unread, mentions } = r;
  if (seq >= r.counted) {
    unread = 0;
    mentions = 0;
  } else {
    const read = countHeld(t, r.seq, seq, me);
    unread = Math.max(0, unread - read.count);
    mentions = Math.max(0, mentions - read.mentions);
  }
  const noted: Record<string, Noted> = {};
  for (const [id, n] of Object.entries(r.noted)) if (n.seq > seq) noted[id] = n;
  return { ...r, seq, unread, mentions, noted };
}

/** A notification of a message by someone else after what the counts cover: noted; anything else changes nothing. */
export function noteNotification(r: ReadState, n: ChatNotification, me: string): ReadState {
  const m = n.message;
  if (!m?.id || typeof m.seq !== "number" || sameUser(m.user, me)) return r;
  if (m.seq <= Math.max(r.seq, r.counted) || r.noted[m.id]) return r;
  return { ...r, noted: { ...r.noted, [m.id]: { seq: m.seq, mention: n.kind === "mention" } } };
}

/** Badge text: nothing for zero, "99+" past 99. */
export function unreadBadge(count: number): string {
  if (count <= 0) return "";
  return count > 99 ? "99+" : String(count);
}
