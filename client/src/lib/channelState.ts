/**
 * One channel's state: its timeline, threads and pins, and how stored messages and channel events go
 * into it. The chat state (chatState.ts) holds one per channel.
 */
import { changesRoster, effectOnMe, eventItem } from "./channelEvents";
import { firstSeqOf, insertItem, mergeMessages, replaceItem, supersedes, toItem, type TimelineItem } from "./messages";
import { emptyTrack, observe, type SeqTrack } from "./seqTrack";
import type { ChannelEvent, ChannelRole, Message } from "./types";

export interface ThreadState {
  /** The root as it was when the thread was opened, kept current by changes to it. */
  root?: TimelineItem;
  /** Replies known, in seq order: those loaded with the thread and those seen live. */
  replies: TimelineItem[];
  /** Loaded from the replies endpoint (else only live replies are known). */
  loaded: boolean;
}

export interface ChannelState {
  /** The channel's own timeline: messages that are not replies (those live in `threads`). */
  items: TimelineItem[];
  /** Older history exists before the first loaded message. */
  hasMore: boolean;
  joined: boolean;
  members: string[];
  /** Seqs seen over messages and changes together (seqTrack.ts): gaps and catch-up. */
  seq: SeqTrack;
  /** Root id -> its thread. */
  threads: Record<string, ThreadState>;
  /** Pinned messages in seq order; null until loaded. */
  pins: TimelineItem[] | null;
  /** The signed-in user's role here (from the join, then its events); null: none, or not joined yet. */
  role: ChannelRole | null;
  /** When the signed-in user's mute here ends (ISO 8601); null when not muted. */
  mutedUntil: string | null;
  /** Counts the events that changed the members or their standing: an open members list reloads on it. */
  rosterRev: number;
}

export const emptyChannel = (): ChannelState => ({
  items: [],
  hasMore: false,
  joined: false,
  members: [],
  seq: emptyTrack(),
  threads: {},
  pins: null,
  role: null,
  mutedUntil: null,
  rosterRev: 0,
});

const bySeq = (a: TimelineItem, b: TimelineItem) => (a.seq ?? 0) - (b.seq ?? 0);

/** Upsert into a small seq-ordered list (a thread's replies, the pins); the same array when unchanged. */
export function upsertSorted(list: TimelineItem[], msg: Message, counted: number | undefined): TimelineItem[] {
  if (typeof msg.seq !== "number") return list;
  const i = list.findIndex((x) => x.seq === msg.seq || (msg.id !== undefined && x.id === msg.id));
  if (i >= 0) {
    const held = list[i]!;
    if (!supersedes(held, msg, counted)) return list;
    const copy = list.slice();
    copy[i] = replaceItem(held, msg as Message & { seq: number }, counted);
    return copy;
  }
  return [...list, toItem(msg as Message & { seq: number }, counted)].sort(bySeq);
}

/** Index of the item with this id, looking from the newest (replies and changes are mostly recent). */
function indexOfId(items: readonly TimelineItem[], id: string): number {
  for (let i = items.length - 1; i >= 0; i--) if (items[i]!.id === id) return i;
  return -1;
}

/**
 * Take stored messages into a channel: roots into the timeline, replies into their threads (a
 * reply not seen before that the root's count does not include yet adds one to it), pinned ones
 * into the pins. `counted`: the seq the messages' reply counts are current as of. `insertOld`:
 * whether a message older than the first one held is inserted (history pages) or only updated
 * where held (changes, which must not leave a hole in the loaded timeline).
 */
export function applyMessages(
  c: ChannelState,
  messages: readonly Message[],
  counted: number | undefined,
  insertOld: boolean,
): ChannelState {
  let items = c.items;
  let threads = c.threads;
  let pins = c.pins;
  const roots: Message[] = [];
  const first = firstSeqOf(items);
  for (const m of messages) {
    if (typeof m.seq !== "number" || m.ephemeral) continue;
    if (m.reply_to) continue;
    if (insertOld || !c.hasMore || first === undefined || m.seq >= first || indexOfId(items, m.id ?? "") >= 0) roots.push(m);
  }
  if (roots.length) items = mergeMessages(items, roots, counted);
  for (const m of messages) {
    if (typeof m.seq !== "number" || m.ephemeral) continue;
    if (m.reply_to) {
      const root = m.reply_to;
      const thread = threads[root] ?? { replies: [], loaded: false };
      const isNew = !thread.replies.some((r) => r.id === m.id || r.seq === m.seq);
      const replies = upsertSorted(thread.replies, m, counted);
      if (replies !== thread.replies) threads = { ...threads, [root]: { ...thread, replies } };
      if (isNew) {
        const bump = (r: TimelineItem): TimelineItem =>
          m.seq! > (r.counted ?? r.seq ?? 0) ? { ...r, reply_count: (r.reply_count ?? 0) + 1 } : r;
        const i = indexOfId(items, root);
        if (i >= 0) {
          const next = bump(items[i]!);
          if (next !== items[i]) {
            items = items === c.items ? items.slice() : items;
            items[i] = next;
          }
        }
        const t = threads[root];
        if (t?.root) {
          const next = bump(t.root);
          if (next !== t.root) threads = { ...threads, [root]: { ...t, root: next } };
        }
      }
    } else if (m.id && threads[m.id]?.root) {
      const t = threads[m.id]!;
      if (supersedes(t.root!, m, counted)) {
        threads = { ...threads, [m.id]: { ...t, root: replaceItem(t.root!, m as Message & { seq: number }, counted) } };
      }
    }
    if (pins !== null) {
      if (m.pinned && !m.deleted) pins = upsertSorted(pins, m, counted);
      else if (pins.some((p) => p.id === m.id)) pins = pins.filter((p) => p.id !== m.id);
    }
  }
  if (items === c.items && threads === c.threads && pins === c.pins) return c;
  return { ...c, items, threads, pins };
}

/** A thread as shown: its root (the timeline's copy when held, else the one kept with the thread) and replies. */
export function threadOf(c: ChannelState, rootId: string): { root: TimelineItem | undefined; replies: TimelineItem[]; loaded: boolean } {
  const t = c.threads[rootId];
  const i = indexOfId(c.items, rootId);
  return { root: i >= 0 ? c.items[i] : t?.root, replies: t?.replies ?? [], loaded: t?.loaded ?? false };
}

/**
 * Take a channel event into a channel: its line in the timeline (unless it is older than the loaded
 * history, which would leave a hole), its seq in the stream when `live` (a join's events are covered by
 * its `last_seq`), and what it changes for `me`.
 */
export function applyEvent(c: ChannelState, ev: ChannelEvent, me: string, live: boolean): ChannelState {
  const seq = live ? observe(c.seq, ev.seq) : c.seq;
  const first = firstSeqOf(c.items);
  const fits = !c.hasMore || first === undefined || ev.seq >= first;
  const items = fits ? insertItem(c.items, eventItem(ev)) : c.items;
  if (fits && items === c.items) return seq === c.seq ? c : { ...c, seq }; // seen already
  const effect = effectOnMe(ev, me);
  return {
    ...c,
    seq,
    items,
    role: effect.role !== undefined ? effect.role : c.role,
    mutedUntil: effect.mutedUntil !== undefined ? effect.mutedUntil : c.mutedUntil,
    rosterRev: changesRoster(ev) ? c.rosterRev + 1 : c.rosterRev,
  };
}
