/** Per-channel message timeline: merge by seq, keep local-only items in place, detect gaps. */
import type { Message } from "./types";

/**
 * A timeline entry. Stored messages are ordered by `seq`; local-only entries (ephemeral bot
 * replies, echoes of our own commands) have no seq and sit after the stored message that was
 * newest when they arrived (`anchor`).
 */
export interface TimelineItem extends Message {
  key: string;
  anchor: number;
  local?: boolean;
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

function toItem(msg: Message & { seq: number }): TimelineItem {
  return { ...msg, key: msg.id ?? `seq-${msg.seq}`, anchor: msg.seq };
}

/** Merge stored messages into a timeline: no duplicates (by seq), ascending order. */
export function mergeMessages(
  existing: readonly TimelineItem[],
  incoming: readonly Message[],
): TimelineItem[] {
  // The common case, a live message newer than everything held, is an append: a busy channel
  // must not pay a rebuild and sort of its whole history for each one.
  if (incoming.length === 1) {
    const msg = incoming[0]!;
    if (typeof msg.seq === "number" && msg.seq > lastSeqOf(existing)) {
      return [...existing, toItem(msg as Message & { seq: number })];
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
    if (bySeq.has(msg.seq)) continue;
    bySeq.set(msg.seq, toItem(msg as Message & { seq: number }));
    changed = true;
  }
  if (!changed) return existing as TimelineItem[];
  const merged = [...bySeq.values(), ...locals];
  // Stable sort keeps locals sharing an anchor in arrival order.
  return merged.sort((a, b) => sortKey(a) - sortKey(b));
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
