/**
 * Per-channel message timeline: merge by seq, upsert changed messages by id (the newer `rev`
 * wins), keep local-only items in place, detect gaps.
 */
import type { ChannelEvent, Message } from "./types";

/**
 * A timeline entry. Stored messages are ordered by `seq`; local-only entries (ephemeral bot
 * replies, echoes of our own commands) have no seq and sit after the stored message that was
 * newest when they arrived (`anchor`).
 */
export interface TimelineItem extends Message {
  key: string;
  anchor: number;
  local?: boolean;
  /**
   * The channel seq its `reply_count` is current as of: a live reply with a higher seq, not yet
   * seen, adds one to it; one at or below it is already counted.
   */
  counted?: number;
  /** A channel event's system line (channelEvents.ts), not a message. */
  event?: ChannelEvent;
}

/** A message's latest change: its `rev`, or its `seq` when the server sent none (never changed). */
export function revOf(m: Message): number {
  return m.rev ?? m.seq ?? 0;
}

/**
 * Whether `incoming` should replace `held` (the same message): a newer rev does; the same rev
 * does only when it brings a fresher reply count (derived, so it moves without a rev).
 */
export function supersedes(held: TimelineItem, incoming: Message, counted: number | undefined): boolean {
  const a = revOf(held);
  const b = revOf(incoming);
  if (b !== a) return b > a;
  if (incoming.reply_count == null) return false;
  return incoming.reply_count !== (held.reply_count ?? 0) && (counted ?? 0) > (held.counted ?? 0);
}

/**
 * `incoming`, a newer copy of `held`, as the held item: same key and place. A change's copy comes
 * without `reply_count` (the server counts replies only when it reads a page): the count held, and
 * what it is current as of, stay.
 */
export function replaceItem(held: TimelineItem, incoming: Message & { seq: number }, counted: number | undefined): TimelineItem {
  const next: TimelineItem = { ...toItem(incoming, counted), key: held.key, anchor: held.anchor };
  if (incoming.reply_count == null) {
    next.reply_count = held.reply_count;
    next.counted = held.counted;
  }
  return next;
}

function sortKey(item: TimelineItem): number {
  return item.seq ?? item.anchor + 0.5;
}

export function lastSeqOf(items: readonly TimelineItem[]): number {
  for (let i = items.length - 1; i >= 0; i--) {
    const s = items[i]!.seq;
    if (s !== undefined) return s;
  }
  return 0;
}

/**
 * The seq up to which the timeline has no hole, counting from its oldest stored message: where a
 * catch-up must start, since a late or missed message may sit below the newest one shown.
 */
export function contiguousSeqOf(items: readonly TimelineItem[]): number {
  let end = 0;
  for (const item of items) {
    if (item.seq === undefined) continue;
    if (end !== 0 && item.seq > end + 1) break;
    end = item.seq;
  }
  return end;
}

export function firstSeqOf(items: readonly TimelineItem[]): number | undefined {
  for (const item of items) if (item.seq !== undefined) return item.seq;
  return undefined;
}

export function toItem(msg: Message & { seq: number }, counted?: number): TimelineItem {
  return { ...msg, key: msg.id ?? `seq-${msg.seq}`, anchor: msg.seq, counted: Math.max(counted ?? 0, msg.seq) };
}

/**
 * Merge stored messages into a timeline, ascending by seq: a message already held (same seq, so
 * the same id) is replaced only by a newer revision of it (`supersedes`), never duplicated.
 * `counted`: the seq the incoming messages' reply counts are current as of.
 */
export function mergeMessages(
  existing: readonly TimelineItem[],
  incoming: readonly Message[],
  counted?: number,
): TimelineItem[] {
  // The common case, a live message newer than everything held, is an append: a busy channel
  // must not pay a rebuild and sort of its whole history for each one.
  if (incoming.length === 1) {
    const msg = incoming[0]!;
    if (typeof msg.seq === "number" && msg.seq > lastSeqOf(existing)) {
      return [...existing, toItem(msg as Message & { seq: number }, counted)];
    }
  }
  const bySeq = new Map<number, TimelineItem>();
  const locals: TimelineItem[] = [];
  for (const item of existing) {
    if (item.seq === undefined) locals.push(item);
    else bySeq.set(item.seq, item);
  }
  let changed = false;
  for (const msg of incoming) {
    if (typeof msg.seq !== "number") continue;
    const held = bySeq.get(msg.seq);
    if (held) {
      if (!supersedes(held, msg, counted)) continue;
      bySeq.set(msg.seq, replaceItem(held, msg as Message & { seq: number }, counted));
      changed = true;
      continue;
    }
    bySeq.set(msg.seq, toItem(msg as Message & { seq: number }, counted));
    changed = true;
  }
  if (!changed) return existing as TimelineItem[];
  const merged = [...bySeq.values(), ...locals];
  // Stable sort keeps locals sharing an anchor in arrival order.
  return merged.sort((a, b) => sortKey(a) - sortKey(b));
}

/** Insert one item at its seq (an append when it is the newest); the same array when its seq is held. */
export function insertItem(items: TimelineItem[], item: TimelineItem & { seq: number }): TimelineItem[] {
  if (item.seq > lastSeqOf(items)) return [...items, item];
  if (indexOfSeq(items, item.seq) >= 0) return items;
  return [...items, item].sort((a, b) => sortKey(a) - sortKey(b));
}

/**
 * Drop the oldest items beyond `cap` (with some slack, so this is not done on every message).
 * Returns the same array when nothing is dropped; what is dropped can be loaded again as history.
 */
export function capItems(items: TimelineItem[], cap: number, slack = Math.ceil(cap / 10)): TimelineItem[] {
  return items.length > cap + slack ? items.slice(items.length - cap) : items;
}

let localCounter = 0;

/** Append a message that lives only in this browser (ephemeral bot reply, command echo). */
export function appendLocal(
  existing: readonly TimelineItem[],
  msg: Message,
  opts: { local?: boolean } = {},
): TimelineItem[] {
  localCounter += 1;
  const item: TimelineItem = {
    ...msg,
    seq: undefined,
    ephemeral: true,
    key: `local-${msg.id ?? ""}-${localCounter}`,
    anchor: lastSeqOf(existing),
    local: opts.local,
  };
  return [...existing, item];
}

/**
 * What a live `message` with this seq means for a channel whose newest known seq is `lastSeq`:
 * the next one, an old/duplicate one, or one after a gap we must fill with `join {after}`.
 */
export function classifySeq(lastSeq: number, seq: number): "next" | "duplicate" | "gap" {
  if (seq <= lastSeq) return "duplicate";
  if (seq === lastSeq + 1 || lastSeq === 0) return "next";
  return "gap";
}

/** Index of the stored item with this seq (binary search: items are in seq order), or -1. */
export function indexOfSeq(items: readonly TimelineItem[], seq: number): number {
  let lo = 0;
  let hi = items.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const k = sortKey(items[mid]!);
    if (k === seq) return items[mid]!.seq === seq ? mid : -1;
    if (k < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Replace the item with this seq by `fn(item)`; the same array when it is absent or unchanged. */
export function updateAt(items: TimelineItem[], seq: number, fn: (item: TimelineItem) => TimelineItem): TimelineItem[] {
  const i = indexOfSeq(items, seq);
  if (i < 0) return items;
  const next = fn(items[i]!);
  if (next === items[i]) return items;
  const copy = items.slice();
  copy[i] = next;
  return copy;
}
